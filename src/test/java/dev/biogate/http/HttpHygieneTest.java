package dev.biogate.http;

import dev.biogate.support.HarnessTest;
import dev.biogate.support.RawHttp;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HEAD wherever GET is served, 405 with Allow on known paths, JSON for everything else, one ETag per encoding. */
class HttpHygieneTest extends HarnessTest {

  @Override
  protected JsonObject gatewayOverrides() {
    return new JsonObject();
  }

  private Future<HttpResponse<Buffer>> send(HttpMethod m, int port, String path) {
    return h.http.request(m, port, "127.0.0.1", path).followRedirects(false).send();
  }

  @Test
  void headIsServedWhereverGetIsWithTheSameContentLength(VertxTestContext ctx) {
    List<String> clientPaths = List.of("/health", "/health/live", "/health/ready", "/v1/profiles/demo", "/v1/profiles/demo/links");
    List<Future<List<HttpResponse<Buffer>>>> pairs = new ArrayList<>();
    for (String p : clientPaths) {
      pairs.add(send(HttpMethod.GET, g.port(), p).compose(get -> send(HttpMethod.HEAD, g.port(), p).map(head -> List.of(get, head))));
    }
    pairs.add(send(HttpMethod.GET, g.managementPort(), "/health/live")
      .compose(get -> send(HttpMethod.HEAD, g.managementPort(), "/health/live").map(head -> List.of(get, head))));
    Future.all(pairs).compose(v -> send(HttpMethod.HEAD, g.managementPort(), "/metrics")
        .compose(metrics -> send(HttpMethod.HEAD, g.port(), "/r/demo/lnk_demo_03").map(r -> List.of(metrics, r))))
      .onComplete(ctx.succeeding(extra -> ctx.verify(() -> {
        for (int i = 0; i < pairs.size(); i++) {
          Future<List<HttpResponse<Buffer>>> f = pairs.get(i);
          boolean dynamic = i < clientPaths.size() && clientPaths.get(i).matches("/health(/ready)?"); // latencies vary
          HttpResponse<Buffer> get = f.result().get(0);
          HttpResponse<Buffer> head = f.result().get(1);
          assertEquals(get.statusCode(), head.statusCode(), "HEAD answers like GET");
          assertNotNull(head.getHeader("Content-Length"), "HEAD carries Content-Length: " + head.headers());
          if (!dynamic) {
            assertEquals(get.body() == null ? 0 : get.body().length(), Integer.parseInt(head.getHeader("Content-Length")),
              "HEAD's Content-Length is GET's body length");
          }
          assertTrue(head.body() == null || head.body().length() == 0, "HEAD has no body");
        }
        assertEquals(200, extra.get(0).statusCode(), "HEAD /metrics");
        assertNotNull(extra.get(0).getHeader("Content-Length"));
        assertEquals(302, extra.get(1).statusCode(), "HEAD /r/ redirects (and is not counted)");
        ctx.completeNow();
      })));
  }

  @Test
  void wrongMethodOnAKnownPathIs405WithAllow(VertxTestContext ctx) {
    Future.all(send(HttpMethod.POST, g.port(), "/v1/profiles/demo"), send(HttpMethod.DELETE, g.port(), "/health/live"),
        send(HttpMethod.GET, g.port(), "/webhooks/linktree"), send(HttpMethod.PUT, g.port(), "/r/demo/lnk_demo_03"),
        send(HttpMethod.GET, g.port(), "/no/such/thing"))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        String[] allows = {"GET", "GET", "POST", "GET"};
        for (int i = 0; i < 4; i++) {
          HttpResponse<Buffer> r = all.resultAt(i);
          assertEquals(405, r.statusCode(), "request " + i + ": " + r.bodyAsString());
          assertEquals("method_not_allowed", r.bodyAsJsonObject().getString("error"));
          assertNotNull(r.getHeader("Allow"), "request " + i);
          assertTrue(r.getHeader("Allow").contains(allows[i]), r.getHeader("Allow"));
        }
        HttpResponse<Buffer> unknown = all.resultAt(4);
        assertEquals(404, unknown.statusCode());
        assertEquals("not_found", unknown.bodyAsJsonObject().getString("error"));
        ctx.completeNow();
      })));
  }

  /** HEAD is GET without the body: an unknown path is 404 for both (it once was 405 without Allow for HEAD). */
  @Test
  void headOnAnUnknownPathIs404LikeGet(VertxTestContext ctx) {
    Future.all(send(HttpMethod.HEAD, g.port(), "/not/here"), send(HttpMethod.HEAD, g.port(), "/v1/nothing"),
        send(HttpMethod.HEAD, g.managementPort(), "/nothing"), send(HttpMethod.HEAD, g.port(), "/webhooks/linktree"))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        for (int i = 0; i < 3; i++) {
          HttpResponse<Buffer> r = all.resultAt(i);
          assertEquals(404, r.statusCode(), "HEAD request " + i);
          assertEquals(null, r.getHeader("Allow"), "HEAD request " + i);
          assertTrue(String.valueOf(r.getHeader("Content-Type")).startsWith("application/json"), "HEAD request " + i);
        }
        HttpResponse<Buffer> postOnly = all.resultAt(3);
        assertEquals(405, postOnly.statusCode(), "a known path that does not serve GET");
        assertEquals("POST", postOnly.getHeader("Allow"));
        ctx.completeNow();
      })));
  }

  /**
   * {@code close} inside a Connection list closes the connection after the answer, announced (RFC 9112 9.6); and an
   * HTTP/1.0 {@code keep-alive} inside a list keeps it open. The whole value was compared: {@code keep-alive, close}
   * was kept open and a request pipelined behind it answered (a raw-socket pass found it).
   */
  @Test
  void aCloseOptionInAConnectionListClosesTheConnection(Vertx vertx, VertxTestContext ctx) {
    RawHttp raw = new RawHttp(vertx);
    String next = "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";
    List<String> lists = List.of("keep-alive, close", "close, keep-alive", "te, close", "close,", "x,CLOSE");
    List<Future<List<RawHttp.Response>>> sent = new java.util.ArrayList<>();
    for (String value : lists) {
      sent.add(raw.exchange(g.port(), "GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: " + value + "\r\n\r\n" + next, 5_000));
    }
    Future<List<RawHttp.Response>> http10 = raw.exchange(g.port(),
      "GET /health/live HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\nGET /health/live HTTP/1.0\r\n\r\n", 5_000);
    Future.all(Future.all(sent), http10)
      .eventually(raw::close)
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        for (int i = 0; i < lists.size(); i++) {
          List<RawHttp.Response> rs = sent.get(i).result();
          assertEquals(1, rs.size(), lists.get(i) + ": " + rs);
          assertEquals(200, rs.get(0).status(), rs.toString());
          assertEquals("close", String.valueOf(rs.get(0).header("Connection")).toLowerCase(), lists.get(i) + ": " + rs);
        }
        assertEquals(2, http10.result().size(), "HTTP/1.0 keep-alive in a list keeps the connection: " + http10.result());
        ctx.completeNow();
      })));
  }

  @Test
  void asteriskOptionsAndConnectAreAnsweredInJson(Vertx vertx, VertxTestContext ctx) {
    RawHttp raw = new RawHttp(vertx);
    Future.all(raw.exchange(g.port(), "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5_000),
        raw.exchange(g.port(), "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n", 5_000))
      .eventually(raw::close)
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        for (int i = 0; i < 2; i++) {
          List<RawHttp.Response> rs = all.resultAt(i);
          RawHttp.Response r = rs.get(0);
          assertTrue(String.valueOf(r.header("Content-Type")).startsWith("application/json"), r.toString());
          JsonObject body = new JsonObject(r.body());
          assertTrue(i == 0 ? body.getValue("allow") != null : body.getValue("error") instanceof String, r.toString());
          assertTrue(r.header("Allow").contains("GET"), r.toString());
          assertEquals("nosniff", r.header("X-Content-Type-Options"), r.toString());
        }
        ctx.completeNow();
      })));
  }

  @Test
  void gzipAndIdentityHaveDifferentETagsAndEitherRevalidates(VertxTestContext ctx) {
    send(HttpMethod.GET, g.port(), "/v1/profiles/demo")
      .compose(plain -> h.http.get(g.port(), "127.0.0.1", "/v1/profiles/demo").putHeader("Accept-Encoding", "gzip").send()
        .map(gz -> List.of(plain, gz)))
      .compose(two -> {
        String plainTag = two.get(0).getHeader("ETag");
        String gzTag = two.get(1).getHeader("ETag");
        return Future.all(
            h.http.get(g.port(), "127.0.0.1", "/v1/profiles/demo").putHeader("If-None-Match", gzTag).send(),
            h.http.get(g.port(), "127.0.0.1", "/v1/profiles/demo").putHeader("Accept-Encoding", "gzip")
              .putHeader("If-None-Match", plainTag).send(),
            h.http.get(g.port(), "127.0.0.1", "/v1/profiles/demo").putHeader("Accept-Encoding", "gzip")
              .putHeader("If-None-Match", gzTag).send())
          .map(all -> {
            assertEquals("gzip", two.get(1).getHeader("Content-Encoding"));
            assertNotEquals(plainTag, gzTag, "RFC 9110 8.8.3: a strong ETag names one representation");
            assertEquals(plainTag.substring(0, plainTag.length() - 1) + "-gz\"", gzTag);
            for (int i = 0; i < 3; i++) {
              HttpResponse<Buffer> r = all.resultAt(i);
              assertEquals(304, r.statusCode(), "revalidation " + i);
            }
            assertEquals(gzTag, ((HttpResponse<Buffer>) all.resultAt(2)).getHeader("ETag"));
            assertEquals(plainTag, ((HttpResponse<Buffer>) all.resultAt(0)).getHeader("ETag"));
            return null;
          });
      })
      .onComplete(ctx.succeedingThenComplete());
  }
}
