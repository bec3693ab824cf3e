package dev.biogate.upstream;

import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * An upstream answer that is JSON of the wrong shape is an upstream fault, answered as one. Found with a hand-made
 * upstream: a profile whose {@code links} was a string got {@code 500 internal_error} and a ClassCastException's stack
 * trace in the log, where malformed JSON or an HTML page got {@code 503 upstream_unavailable} with {@code Retry-After};
 * and {@code 200 {}}, {@code 200 {"error":"maintenance"}} or a profile without {@code links} was served (and cached) as
 * a blank profile.
 */
class UpstreamShapeTest extends HarnessTest {

  private static final JsonObject LINK = new JsonObject().put("id", "l1").put("title", "One").put("url", "https://example.com/1");
  /** Profile answers by name; {@code paged} gets a second page of the wrong shape. */
  private static final Map<String, JsonObject> PROFILES = Map.of(
    "linksastext", new JsonObject().put("username", "linksastext").put("links", "nope"),
    "cursorasnumber", new JsonObject().put("username", "cursorasnumber").put("links", new JsonArray().add(LINK)).put("links_next_cursor", 5),
    "paged", new JsonObject().put("username", "paged").put("links", new JsonArray().add(LINK)).put("links_next_cursor", "p2"),
    "blank", new JsonObject(),
    "maintenance", new JsonObject().put("error", "maintenance"),
    "nolinks", new JsonObject().put("username", "nolinks").put("bio", "no links field"),
    "othername", new JsonObject().put("username", "someone-else").put("links", new JsonArray().add(LINK)),
    "numbername", new JsonObject().put("username", 5).put("links", new JsonArray().add(LINK)),
    "oddfields", new JsonObject().put("username", "OddFields").put("bio", new JsonArray().add("x"))
      .put("links", new JsonArray().add(LINK).add(5).add("x").addNull().add(new JsonArray())));

  /** Answers of the wrong shape: each an upstream fault. */
  private static final List<String> FAULTS = List.of("linksastext", "cursorasnumber", "paged", "blank", "maintenance",
    "nolinks", "othername", "numbername");

  private HttpServer upstream;

  @AfterEach
  void stopUpstream(VertxTestContext ctx) {
    (upstream == null ? Future.succeededFuture() : upstream.close()).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aProfileOfTheWrongShapeIsAnUpstreamFaultNotA500(Vertx vertx, VertxTestContext ctx) {
    upstream = vertx.createHttpServer().requestHandler(req -> {
      String[] parts = req.path().split("/");
      String name = parts.length > 2 ? parts[2] : "";
      JsonObject body = req.path().endsWith("/links")
        ? new JsonObject().put("data", "not a list").put("next_cursor", 7)
        : PROFILES.get(name);
      if (body == null) {
        req.response().setStatusCode(404).end();
      } else {
        req.response().putHeader("Content-Type", "application/json").end(body.encode());
      }
    });
    upstream.listen(0, "127.0.0.1")
      .compose(server -> h.gateway(new JsonObject().put("linktree", new JsonObject()
        .put("apiBase", "http://127.0.0.1:" + server.actualPort()).put("maxRetries", 0).put("breakerMaxFailures", 100))))
      .compose(g -> Future.all(FAULTS.stream().map(name -> h.get(g, "/v1/profiles/" + name)).toList())
        .compose(faults -> h.get(g, "/v1/profiles/oddfields").map(odd -> {
          List<HttpResponse<Buffer>> all = new java.util.ArrayList<>(faults.list());
          all.add(odd);
          return all;
        })))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        for (int i = 0; i < FAULTS.size(); i++) {
          HttpResponse<Buffer> r = all.get(i);
          assertEquals(503, r.statusCode(), FAULTS.get(i) + ": " + r.bodyAsString());
          assertEquals("upstream_unavailable", r.bodyAsJsonObject().getString("error"), r.bodyAsString());
          assertNotNull(r.getHeader("Retry-After"), r.headers().toString());
        }
        HttpResponse<Buffer> odd = all.get(FAULTS.size());
        assertEquals(200, odd.statusCode(), "fields of odd types are dropped one by one: " + odd.bodyAsString());
        assertEquals(1, odd.bodyAsJsonObject().getJsonArray("links").size(), odd.bodyAsString());
        ctx.completeNow();
      })));
  }

  /**
   * Found with a hand-made upstream: once it answered {@code 200 {}}, a background refresh replaced the good cached copy
   * with a blank profile (empty bio, no links), cached for the whole stale-if-error window.
   */
  @Test
  void aBlankAnswerNeverReplacesAGoodCopy(Vertx vertx, VertxTestContext ctx) {
    java.util.concurrent.atomic.AtomicBoolean blank = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    upstream = vertx.createHttpServer().requestHandler(req -> {
      calls.incrementAndGet();
      JsonObject body = blank.get() ? new JsonObject()
        : new JsonObject().put("username", "carol").put("bio", "Carol bio").put("links", new JsonArray().add(LINK));
      req.response().putHeader("Content-Type", "application/json").end(body.encode());
    });
    upstream.listen(0, "127.0.0.1")
      .compose(server -> h.gateway(new JsonObject()
        .put("linktree", new JsonObject().put("apiBase", "http://127.0.0.1:" + server.actualPort()).put("maxRetries", 0)
          .put("breakerMaxFailures", 100))
        .put("cache", new JsonObject().put("freshTtlMs", 1).put("staleWhileRevalidateMs", 600_000))))
      .compose(g -> h.get(g, "/v1/profiles/carol").compose(good -> {
        blank.set(true);
        int before = calls.get();
        // Every read of the stale copy may start a refresh: wait until two of them got the blank answer.
        return h.eventually(() -> h.get(g, "/v1/profiles/carol").map(r -> calls.get() >= before + 2), 10_000)
          .compose(v -> h.get(g, "/v1/profiles/carol"));
      }))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals(200, r.statusCode(), r.bodyAsString());
        assertEquals("Carol bio", r.bodyAsJsonObject().getString("bio"), r.bodyAsString());
        assertEquals(1, r.bodyAsJsonObject().getJsonArray("links").size(), r.bodyAsString());
        ctx.completeNow();
      })));
  }

  /**
   * Found in a re-drill: answers that are not a profile counted as successful calls, so the breaker stayed closed and
   * {@code /health} said the upstream was healthy while every uncached read was answered 503. They now count as
   * failures: here the breaker opens after two, and the third read spends no call.
   */
  @Test
  void answersThatAreNotAProfileOpenTheBreaker(Vertx vertx, VertxTestContext ctx) {
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    upstream = vertx.createHttpServer().requestHandler(req -> {
      calls.incrementAndGet();
      req.response().putHeader("Content-Type", "application/json").end("{}");
    });
    upstream.listen(0, "127.0.0.1")
      .compose(server -> h.gateway(new JsonObject().put("linktree", new JsonObject()
        .put("apiBase", "http://127.0.0.1:" + server.actualPort()).put("maxRetries", 0).put("breakerMaxFailures", 2))))
      .compose(g -> h.get(g, "/v1/profiles/first").compose(a -> h.get(g, "/v1/profiles/second"))
        .compose(b -> h.get(g, "/v1/profiles/third")).compose(third -> h.get(g, "/health").map(health -> List.of(third, health))))
      .onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
        assertEquals(503, rs.get(0).statusCode(), rs.get(0).bodyAsString());
        assertEquals(2, calls.get(), "the third read found the breaker open");
        assertEquals("down", rs.get(1).bodyAsJsonObject().getJsonObject("services").getJsonObject("linktree").getString("status"),
          rs.get(1).bodyAsString());
        ctx.completeNow();
      })));
  }
}
