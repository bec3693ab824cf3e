package dev.biogate.http;

import dev.biogate.Gateway;
import dev.biogate.config.Secret;
import dev.biogate.support.Harness;
import dev.biogate.webhook.LinkmeVerifier;
import dev.biogate.webhook.LinktreeVerifier;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.junit5.Timeout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Thousands of malformed requests, generated from a fixed seed (so a failure reproduces): bad and missing
 * signatures, truncated and non-UTF-8 bodies, oversized bodies and headers, odd content types, hostile paths and
 * query strings, undecodable HTTP on a raw socket. Every answer must be below 500 and every error a JSON
 * {@code {"error","message"}} document.
 */
@ExtendWith(VertxExtension.class)
class HostileInputTest {

  private static final long SEED = 20261122L;
  private static final int REQUESTS = 2_500;
  private static final String LT_SECRET = "whsec_fuzz_linktree_secret";
  private static final String LM_SECRET = "lm_fuzz_linkme_secret";
  private static final String[] CONTENT_TYPES = {"application/json", "application/json; charset=utf-8", "text/plain", "",
    "application/json; charset=latin1", "application/json;;;", "multipart/form-data; boundary=x", "APPLICATION/JSON"};
  private static final String[] TIMESTAMPS = {"", "abc", "-1", "99999999999999999999", " 123", "1e9", "0", "1795860000"};
  private static final String PATH_CHARS = "abcXYZ019._-~%/?&=#:;,+!$'()*@[]{}|\\^`\" <>";

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS) // 2,500 requests; the default 30 s is tight on a loaded machine
  void neverAnswers5xxAndAlwaysExplainsErrorsInJson(Vertx vertx, VertxTestContext ctx) {
    Harness h = new Harness(vertx);
    Random rnd = new Random(SEED);
    JsonObject cfg = new JsonObject()
      .put("webhooks", new JsonObject().put("linktree", new JsonObject().put("secrets", LT_SECRET))
        .put("linkme", new JsonObject().put("secrets", LM_SECRET)))
      .put("admin", new JsonObject().put("token", "fuzz-admin-token-0123456789"))
      .put("linktree", new JsonObject().put("rateLimitPerMin", 100_000));
    h.start(dev.biogate.support.TestRedis.url(), new JsonObject().put("rateLimitPerMin", 10_000_000))
      .compose(v -> h.gateway(cfg))
      .compose(g -> batches(g, h, rnd, 0, new int[1]).compose(n -> rawSocket(vertx, g)).eventually(h::close))
      .onComplete(ctx.succeedingThenComplete());
  }

  private Future<Integer> batches(Gateway g, Harness h, Random rnd, int done, int[] checked) {
    if (done >= REQUESTS) {
      return Future.succeededFuture(checked[0]);
    }
    List<Future<Void>> batch = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      String label = "request " + (done + i) + " (seed " + SEED + "):";
      String[] what = new String[1];
      batch.add(one(g, h, rnd, what).transform(ar -> {
        if (ar.failed()) {
          return Future.failedFuture(new AssertionError(label + " " + what[0] + ": " + ar.cause(), ar.cause()));
        }
        check(label + " " + what[0], ar.result().statusCode(), ar.result().getHeader("Content-Type"), ar.result().bodyAsString());
        checked[0]++;
        return Future.succeededFuture();
      }));
    }
    return Future.all(batch).compose(v -> batches(g, h, rnd, done + 50, checked));
  }

  /** One random hostile request. */
  private Future<HttpResponse<Buffer>> one(Gateway g, Harness h, Random rnd, String[] what) {
    int kind = rnd.nextInt(10);
    if (kind < 4) {
      return webhook(g, h, rnd, true, what);
    }
    if (kind < 6) {
      return webhook(g, h, rnd, false, what);
    }
    String[] prefixes = {"/v1/profiles/", "/v1/profiles/demo/links?", "/r/", "/v1/analytics/", "/admin/", "/webhooks/", "/health/", "/"};
    String path = prefixes[rnd.nextInt(prefixes.length)] + randomPath(rnd, rnd.nextInt(10) == 0 ? 6_000 : 1 + rnd.nextInt(80));
    HttpMethod[] methods = {HttpMethod.GET, HttpMethod.GET, HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PUT,
      HttpMethod.DELETE, HttpMethod.PATCH, HttpMethod.OPTIONS};
    HttpMethod m = methods[rnd.nextInt(methods.length)];
    HttpRequest<Buffer> req = h.http.request(m, g.port(), "127.0.0.1", path);
    what[0] = m + " " + abbreviate(path);
    if (rnd.nextBoolean()) {
      req.putHeader("Authorization", rnd.nextBoolean() ? "Bearer " + randomPath(rnd, 40) : randomPath(rnd, 20));
    }
    if (rnd.nextInt(4) == 0) {
      req.putHeader("If-None-Match", randomPath(rnd, 30));
      req.putHeader("Accept-Encoding", randomPath(rnd, 20));
      req.putHeader("X-Forwarded-For", randomPath(rnd, 30));
    }
    return m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.DELETE || m == HttpMethod.OPTIONS ? req.send()
      : req.sendBuffer(Buffer.buffer(randomBytes(rnd, rnd.nextInt(500))));
  }

  private Future<HttpResponse<Buffer>> webhook(Gateway g, Harness h, Random rnd, boolean linktree, String[] what) {
    Buffer body = body(rnd);
    HttpRequest<Buffer> req = h.http.post(g.port(), "127.0.0.1", linktree ? "/webhooks/linktree" : "/webhooks/linkme");
    what[0] = (linktree ? "POST /webhooks/linktree " : "POST /webhooks/linkme ") + body.length() + " bytes: "
      + abbreviate(body.toString(StandardCharsets.ISO_8859_1));
    String ct = CONTENT_TYPES[rnd.nextInt(CONTENT_TYPES.length)];
    if (!ct.isEmpty()) {
      req.putHeader("Content-Type", ct);
    }
    boolean sign = rnd.nextInt(3) > 0;
    if (linktree) {
      String ts = rnd.nextBoolean() ? Long.toString(System.currentTimeMillis() / 1000) : TIMESTAMPS[rnd.nextInt(TIMESTAMPS.length)];
      if (rnd.nextInt(8) > 0) {
        req.putHeader("x-linktree-timestamp", ts);
      }
      if (rnd.nextInt(8) > 0) {
        req.putHeader("x-linktree-signature", sign ? LinktreeVerifier.sign(Secret.of(LT_SECRET), ts, body) : randomHex(rnd));
      }
      if (rnd.nextInt(6) > 0) {
        req.putHeader("x-linktree-delivery-id", rnd.nextInt(5) == 0 ? randomPath(rnd, 300) : "dlv_" + rnd.nextLong());
      }
      if (rnd.nextInt(10) == 0) {
        req.putHeader("x-linktree-signature", "x".repeat(8_000));
      }
    } else if (rnd.nextInt(8) > 0) {
      req.putHeader("X-LinkMe-Signature", sign ? LinkmeVerifier.sign(Secret.of(LM_SECRET), body) : "sha256=" + randomHex(rnd));
    }
    return req.sendBuffer(body);
  }

  /** Bodies: JSON of the wrong shape, truncated JSON, invalid UTF-8, binary, empty, oversized, or a valid envelope. */
  private static Buffer body(Random rnd) {
    String valid = "{\"type\":\"link.updated\",\"data\":{\"link_id\":\"lnk_" + rnd.nextInt(100) + "\",\"title\":\"t\",\"url\":"
      + "\"https://example.com\",\"position\":1,\"thumbnail_url\":null},\"timestamp\":\"2026-11-22T10:00:00Z\",\"id\":\"" + rnd.nextLong()
      + "\",\"event\":\"link.click\",\"ts\":\"2026-11-22T10:00:00Z\",\"app_id\":\"a\"}";
    switch (rnd.nextInt(9)) {
      case 0: return Buffer.buffer(valid.substring(0, rnd.nextInt(valid.length())));
      case 1: return Buffer.buffer(randomBytes(rnd, rnd.nextInt(2_000)));
      case 2: return Buffer.buffer(new byte[] {(byte) 0xC3, (byte) 0x28, '{', '}', (byte) 0xFF, (byte) 0xFE});
      case 3: return Buffer.buffer("[1,2,3]");
      case 4: return Buffer.buffer("{\"type\":42,\"data\":\"nope\",\"id\":null,\"event\":[],\"data2\":{}}");
      case 5: return Buffer.buffer("");
      case 6: return Buffer.buffer(new byte[300 * 1024 + rnd.nextInt(1024)]);
      case 7: return Buffer.buffer("{\"a\":" + "[".repeat(5_000) + "]".repeat(5_000) + "}");
      default: return Buffer.buffer(valid);
    }
  }

  /** Bytes the HTTP codec cannot decode, written on a raw socket. */
  private Future<Void> rawSocket(Vertx vertx, Gateway g) {
    String[] payloads = {
      "GARBAGE\r\n\r\n",
      "GET /" + "a".repeat(9_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /v1/profiles/demo HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n",
      "POST /webhooks/linktree HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "POST /webhooks/linkme HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    };
    NetClient net = vertx.createNetClient();
    Future<Void> chain = Future.succeededFuture();
    for (String p : payloads) {
      chain = chain.compose(v -> raw(net, g.port(), p));
    }
    return chain.eventually(net::close);
  }

  private Future<Void> raw(NetClient net, int port, String payload) {
    Promise<Void> done = Promise.promise();
    net.connect(port, "127.0.0.1").onFailure(done::fail).onSuccess(so -> {
      Buffer in = Buffer.buffer();
      so.handler(in::appendBuffer);
      so.closeHandler(v -> {
        String text = in.toString(StandardCharsets.UTF_8);
        try {
          if (!text.isEmpty()) {
            int status = Integer.parseInt(text.substring(9, 12));
            int split = text.indexOf("\r\n\r\n");
            String headers = text.substring(0, split).toLowerCase();
            check("raw " + abbreviate(payload), status, headers.contains("content-type: application/json") ? "application/json" : null,
              text.substring(split + 4));
          }
          done.complete();
        } catch (AssertionError | RuntimeException e) {
          done.fail(new AssertionError("raw " + abbreviate(payload) + ": " + abbreviate(text), e));
        }
      });
      so.write(payload);
      so.pause();
      so.resume();
    });
    return done.future();
  }

  private static void check(String label, int status, String contentType, String body) {
    assertTrue(status < 500, label + " answered " + status + ": " + abbreviate(body));
    if (status >= 400 && !label.contains(" HEAD ")) { // a HEAD answer has headers only
      assertNotNull(contentType, label + " error without a content type");
      assertTrue(contentType.startsWith("application/json"), label + " error is not JSON: " + contentType);
      JsonObject json;
      try {
        json = new JsonObject(body);
      } catch (RuntimeException e) {
        fail(label + " error body is not JSON: " + abbreviate(body));
        return;
      }
      assertTrue(json.getValue("error") instanceof String && json.getValue("message") instanceof String, label + ": " + body);
      assertEquals(-1, body.indexOf("\tat "), label + " leaked a stack trace");
    }
  }

  private static String randomPath(Random rnd, int len) {
    StringBuilder sb = new StringBuilder(len);
    for (int i = 0; i < len; i++) {
      int pick = rnd.nextInt(10);
      if (pick == 0) {
        sb.append('%').append(String.format("%02X", rnd.nextInt(256)));
      } else if (pick == 1) {
        sb.append("..");
      } else {
        sb.append(PATH_CHARS.charAt(rnd.nextInt(PATH_CHARS.length())));
      }
    }
    return sb.toString().replace(" ", "%20").replace("#", "%23").replace("\"", "%22").replace("<", "%3C").replace(">", "%3E")
      .replace("\\", "%5C").replace("^", "%5E").replace("`", "%60").replace("{", "%7B").replace("}", "%7D").replace("|", "%7C")
      .replace("[", "%5B").replace("]", "%5D");
  }

  private static byte[] randomBytes(Random rnd, int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return b;
  }

  private static String randomHex(Random rnd) {
    StringBuilder sb = new StringBuilder();
    int n = rnd.nextBoolean() ? 64 : rnd.nextInt(80);
    for (int i = 0; i < n; i++) {
      sb.append("0123456789abcdefABCDEFxyz".charAt(rnd.nextInt(25)));
    }
    return sb.toString();
  }

  private static String abbreviate(String s) {
    if (s == null) {
      return "<no body>";
    }
    String t = s.replaceAll("\\p{Cntrl}", "?");
    return t.length() > 120 ? t.substring(0, 120) + "..." : t;
  }
}
