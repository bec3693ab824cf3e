package dev.biogate.sandbox;

import dev.biogate.config.SandboxOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sandbox's simulated Klaviyo API: what it accepts, what it refuses, and what it counts. */
@ExtendWith(VertxExtension.class)
class SandboxKlaviyoTest {

  private static final String KEY = "pk_test_sandbox";
  private WebClient http;
  private int port;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    http = WebClient.create(vertx);
    SandboxServer sandbox = new SandboxServer(new SandboxOptions(new JsonObject().put("port", 0)),
      new SandboxKlaviyoOptions(KEY, 5, 1_000, 10));
    vertx.deployVerticle(sandbox).onComplete(ctx.succeeding(id -> {
      port = sandbox.actualPort();
      ctx.completeNow();
    }));
  }

  static JsonObject event(String uniqueId) {
    JsonObject attributes = new JsonObject()
      .put("properties", new JsonObject().put("link_id", "l1"))
      .put("metric", new JsonObject().put("data", new JsonObject().put("type", "metric").put("attributes", new JsonObject().put("name", "Link Clicked"))))
      .put("profile", new JsonObject().put("data", new JsonObject().put("type", "profile").put("attributes", new JsonObject().put("external_id", "demo"))))
      .put("unique_id", uniqueId)
      .put("time", "2025-01-01T00:00:00Z");
    return new JsonObject().put("data", new JsonObject().put("type", "event").put("attributes", attributes));
  }

  private HttpRequest<Buffer> post(String key, String revision, String type) {
    HttpRequest<Buffer> r = http.post(port, "127.0.0.1", "/api/events/");
    if (key != null) {
      r.putHeader("Authorization", "Klaviyo-API-Key " + key);
    }
    if (revision != null) {
      r.putHeader("revision", revision);
    }
    return type == null ? r : r.putHeader("Content-Type", type);
  }

  private Future<HttpResponse<Buffer>> send(HttpRequest<Buffer> r, JsonObject body) {
    return r.sendBuffer(body.toBuffer());
  }

  @Test
  void acceptsValidEventsWith202AndCountsDuplicatesByUniqueId(VertxTestContext ctx) {
    String type = "application/vnd.api+json";
    send(post(KEY, "2024-10-15", type), event("e1"))
      .compose(first -> send(post(KEY, "2024-10-15", type), event("e1")).map(second -> List.of(first, second)))
      .compose(rs -> send(post(KEY, "2024-10-15", type), event("e2")).map(third -> {
        rs.forEach(r -> assertEquals(202, r.statusCode()));
        assertEquals(202, third.statusCode());
        return null;
      }))
      .compose(v -> http.get(port, "127.0.0.1", "/__sandbox/klaviyo/stats").send())
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        JsonObject stats = r.bodyAsJsonObject();
        assertEquals(3, stats.getInteger("received"));
        assertEquals(2, stats.getInteger("unique"));
        assertEquals(1, stats.getInteger("duplicates"));
        JsonObject last = stats.getJsonArray("recent").getJsonObject(2);
        assertEquals("2024-10-15", last.getJsonObject("headers").getString("revision"));
        assertEquals("e2", last.getJsonObject("body").getJsonObject("data").getJsonObject("attributes").getString("unique_id"));
        ctx.completeNow();
      })));
  }

  @Test
  void refusesBadKeyRevisionContentTypeAndBodyWithJsonApiErrors(VertxTestContext ctx) {
    String type = "application/vnd.api+json";
    JsonObject noProfileId = event("e3");
    noProfileId.getJsonObject("data").getJsonObject("attributes").getJsonObject("profile").getJsonObject("data")
      .put("attributes", new JsonObject());
    Future.all(List.of(
        send(post(null, "2024-10-15", type), event("e1")),
        send(post("pk_wrong", "2024-10-15", type), event("e1")),
        send(post(KEY, "2023-01-01", type), event("e1")),
        send(post(KEY, "2024-10-15", "application/json"), event("e1")),
        send(post(KEY, "2024-10-15", type), noProfileId),
        send(post(KEY, "2024-10-15", type), new JsonObject().put("data", "x"))))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        int[] expected = {401, 401, 400, 415, 400, 400};
        for (int i = 0; i < expected.length; i++) {
          HttpResponse<Buffer> r = all.resultAt(i);
          assertEquals(expected[i], r.statusCode(), "request " + i);
          JsonObject error = r.bodyAsJsonObject().getJsonArray("errors").getJsonObject(0);
          assertEquals(expected[i], error.getInteger("status"));
          assertNotNull(error.getJsonObject("source").getString("pointer"));
        }
        ctx.completeNow();
      })));
  }

  @Test
  void limitsTheRateWith429AndRetryAfter(VertxTestContext ctx) {
    List<Future<HttpResponse<Buffer>>> burst = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      burst.add(send(post(KEY, "2024-10-15", "application/vnd.api+json"), event("r" + i)));
    }
    Future.all(burst).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      int accepted = 0;
      int limited = 0;
      for (int i = 0; i < 8; i++) {
        HttpResponse<Buffer> r = all.resultAt(i);
        if (r.statusCode() == 202) {
          accepted++;
        } else {
          assertEquals(429, r.statusCode());
          assertTrue(Long.parseLong(r.getHeader("Retry-After")) >= 1);
          limited++;
        }
      }
      assertEquals(5, accepted, "5 per second");
      assertEquals(3, limited);
      ctx.completeNow();
    })));
  }

  @Test
  void injectsFaultsForTheNextRequestsThenRecovers(VertxTestContext ctx) {
    http.post(port, "127.0.0.1", "/__sandbox/klaviyo/faults").sendJsonObject(new JsonObject().put("mode", "down").put("count", 2))
      .compose(v -> send(post(KEY, "2024-10-15", "application/vnd.api+json"), event("f1")))
      .compose(a -> send(post(KEY, "2024-10-15", "application/vnd.api+json"), event("f1")).map(b -> List.of(a, b)))
      .compose(ab -> send(post(KEY, "2024-10-15", "application/vnd.api+json"), event("f1")).map(c -> {
        assertEquals(503, ab.get(0).statusCode());
        assertEquals(503, ab.get(1).statusCode());
        assertEquals(202, c.statusCode());
        return null;
      }))
      .compose(v -> http.get(port, "127.0.0.1", "/api/accounts/").putHeader("Authorization", "Klaviyo-API-Key " + KEY)
        .putHeader("revision", "2024-10-15").send())
      .compose(ok -> http.get(port, "127.0.0.1", "/api/accounts/").putHeader("revision", "2024-10-15").send().map(no -> {
        assertEquals(200, ok.statusCode());
        assertEquals("account", ok.bodyAsJsonObject().getJsonArray("data").getJsonObject(0).getString("type"));
        assertEquals(401, no.statusCode());
        return null;
      }))
      .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * A body sent to the sandbox, multipart uploads included, is never written to disk. Its control and Klaviyo routes
   * used to create {@code file-uploads/} in the working directory and keep every uploaded file there for good.
   */
  @Test
  void uploadsAreNeverWrittenToTheWorkingDirectory(VertxTestContext ctx) throws Exception {
    java.nio.file.Path uploads = java.nio.file.Path.of("file-uploads");
    List<String> before = entries(uploads);
    String boundary = "b0undary";
    Buffer multipart = Buffer.buffer("--" + boundary + "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
      + "Content-Type: text/plain\r\n\r\nuploaded\r\n--" + boundary + "--\r\n");
    String type = "multipart/form-data; boundary=" + boundary;
    http.post(port, "127.0.0.1", "/__sandbox/faults").putHeader("Content-Type", type).sendBuffer(multipart)
      .compose(a -> post(KEY, "2024-10-15", type).sendBuffer(multipart).map(b -> List.of(a, b)))
      .compose(ab -> http.post(port, "127.0.0.1", "/api/events").putHeader("Authorization", "Klaviyo-API-Key " + KEY)
        .putHeader("revision", "2024-10-15").putHeader("Content-Type", type).sendBuffer(multipart).map(c -> {
          for (var r : List.of(ab.get(0), ab.get(1), c)) {
            assertTrue(r.statusCode() >= 400 && r.statusCode() < 500, r.statusCode() + " " + r.bodyAsString());
          }
          return null;
        }))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertEquals(before, entries(uploads), "nothing written to " + uploads.toAbsolutePath());
        ctx.completeNow();
      })));
  }

  /** What the directory holds, or null when there is none. */
  private static List<String> entries(java.nio.file.Path dir) throws java.io.IOException {
    if (!java.nio.file.Files.isDirectory(dir)) {
      return null;
    }
    try (var s = java.nio.file.Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
