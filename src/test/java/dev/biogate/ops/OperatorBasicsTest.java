package dev.biogate.ops;

import dev.biogate.Gateway;
import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an operator relies on in the first hour: request ids, trace context, TLS, signed cursors, preflight. */
class OperatorBasicsTest extends HarnessTest {

  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String TRACEPARENT = "00-" + TRACE_ID + "-00f067aa0ba902b7-01";

  @Override
  protected JsonObject sandboxOptions() {
    return new JsonObject().put("authenticateHealth", true);
  }

  @Test
  void requestIdIsEchoedAndTravelsUpstreamWithTheTraceContext(VertxTestContext ctx) {
    h.gateway(new JsonObject()).compose(g -> h.http.get(g.port(), "127.0.0.1", "/v1/profiles/demo")
      .putHeader("X-Request-Id", "req-abc.123").putHeader("traceparent", TRACEPARENT).send()
      .compose(r -> h.sandboxStats().map(stats -> {
        assertEquals(200, r.statusCode());
        assertEquals("req-abc.123", r.getHeader("X-Request-Id"));
        assertEquals("req-abc.123", stats.getString("last_request_id"), "the upstream call carries the client's request id");
        String sent = stats.getString("last_traceparent");
        assertNotNull(sent);
        assertTrue(sent.startsWith("00-" + TRACE_ID + "-"), "same trace: " + sent);
        assertNotEquals(TRACEPARENT, sent, "the gateway's own span is the upstream call's parent");
        assertTrue(sent.endsWith("-01"), "sampling flag kept: " + sent);
        return g;
      }))).compose(g -> Future.all(
        h.http.get(g.port(), "127.0.0.1", "/v1/profiles/demo").send(),
        h.http.get(g.port(), "127.0.0.1", "/health/live").putHeader("X-Request-Id", "spaces are\tnot ok").send(),
        h.http.get(g.port(), "127.0.0.1", "/nothing-here").send()))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        for (int i = 0; i < 3; i++) {
          HttpResponse<Buffer> r = all.resultAt(i);
          assertTrue(r.getHeader("X-Request-Id").matches("[0-9a-f]{32}"), "generated when absent or unsafe: " + r.getHeader("X-Request-Id"));
        }
        ctx.completeNow();
      })));
  }

  @Test
  @SuppressWarnings("unchecked")
  void accessLogIsOffByDefaultAndWhenOnLogsSampledRequestsWithoutQueryOrFullAddress(VertxTestContext ctx) {
    ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ch.qos.logback.core.encoder.Encoder<ch.qos.logback.classic.spi.ILoggingEvent> encoder =
      ((ch.qos.logback.core.OutputStreamAppender<ch.qos.logback.classic.spi.ILoggingEvent>) root.getAppender("STDOUT")).getEncoder();
    List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
    ch.qos.logback.core.AppenderBase<ch.qos.logback.classic.spi.ILoggingEvent> capture = new ch.qos.logback.core.AppenderBase<>() {
      @Override
      protected void append(ch.qos.logback.classic.spi.ILoggingEvent e) {
        if (e.getLoggerName().equals("biogate.access")) {
          lines.add(new String(encoder.encode(e), StandardCharsets.UTF_8));
        }
      }
    };
    capture.setContext(root.getLoggerContext());
    capture.start();
    root.addAppender(capture);
    JsonObject on = new JsonObject().put("accessLog", new JsonObject().put("enabled", true).put("sampleRate", 1.0));
    h.gateway(new JsonObject()).compose(quiet -> h.get(quiet, "/v1/profiles/demo").map(r -> {
      assertEquals(List.of(), lines, "off by default");
      return r;
    })).compose(r -> h.gateway(on)).compose(g -> h.http.get(g.port(), "127.0.0.1", "/v1/profiles/demo/links?limit=3&cursor=abc")
        .putHeader("X-Request-Id", "access-log-1")
        .putHeader("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").send())
      .compose(r -> h.eventually(() -> Future.succeededFuture(!lines.isEmpty()), 5_000))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        root.detachAppender(capture);
        String line = lines.get(0);
        assertTrue(line.contains("GET /v1/profiles/demo/links 400"), line);
        assertTrue(!line.contains("cursor") && !line.contains("limit=3"), "no query string: " + line);
        assertTrue(line.contains("client 127.0.x.x"), "address without its host part: " + line);
        assertTrue(line.contains("\"request_id\":\"access-log-1\""), "log lines name the request: " + line);
        assertTrue(line.contains("\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""), "and the client's trace: " + line);
        ctx.completeNow();
      })));
  }

  @Test
  void forgedAlteredOrForeignCursorsAre400(VertxTestContext ctx) {
    h.gateway(new JsonObject()).compose(g -> h.get(g, "/v1/profiles/demo/links?limit=5").compose(first -> {
      assertEquals(200, first.statusCode());
      String cursor = first.bodyAsJsonObject().getString("next_cursor");
      assertNotNull(cursor);
      String altered = "9" + cursor.substring(cursor.indexOf('.'));
      String forged = "5." + "0".repeat(64);
      return Future.all(List.of(h.get(g, "/v1/profiles/demo/links?limit=5&cursor=" + cursor),
        h.get(g, "/v1/profiles/demo/links?cursor=" + altered), h.get(g, "/v1/profiles/demo/links?cursor=" + forged),
        h.get(g, "/v1/profiles/alice/links?cursor=" + cursor), h.get(g, "/v1/profiles/demo/links?cursor=bzU")));
    })).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      HttpResponse<Buffer> next = all.resultAt(0);
      assertEquals(200, next.statusCode(), "a cursor the API issued works");
      assertEquals("lnk_demo_06", next.bodyAsJsonObject().getJsonArray("links").getJsonObject(0).getString("id"));
      for (int i = 1; i < 5; i++) {
        HttpResponse<Buffer> r = all.resultAt(i);
        assertEquals(400, r.statusCode(), "cursor #" + i);
        assertEquals("invalid_cursor", r.bodyAsJsonObject().getString("error"));
      }
      ctx.completeNow();
    })));
  }

  @Test
  void servesTls12OrLaterFromPemFiles(Vertx vertx, VertxTestContext ctx) {
    SelfSignedCertificate cert = SelfSignedCertificate.create("localhost");
    JsonObject tls = new JsonObject().put("tls", new JsonObject().put("certFile", cert.certificatePath()).put("keyFile", cert.privateKeyPath()));
    var client = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setTrustOptions(cert.trustOptions()).setVerifyHost(false));
    h.gateway(tls).compose(g -> client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(g.port())
        .setURI("/health/live"))
      .compose(req -> req.send().compose(resp -> {
        String protocol = req.connection().sslSession().getProtocol();
        return resp.body().map(body -> List.of(Integer.toString(resp.statusCode()), protocol));
      })))
      .onComplete(ctx.succeeding(result -> ctx.verify(() -> {
        assertEquals("200", result.get(0));
        assertTrue(result.get(1).equals("TLSv1.2") || result.get(1).equals("TLSv1.3"), result.get(1));
        cert.delete();
        ctx.completeNow();
      })));
  }

  /**
   * Found by an attack pass: one TLS 1.2 connection completed 271 client-initiated renegotiations in 10 s, each a full
   * handshake the server paid for. They are refused now (the JVM switch the launcher sets, mirrored for the tests).
   */
  @Test
  void aClientInitiatedRenegotiationIsRefused(Vertx vertx, VertxTestContext ctx) {
    SelfSignedCertificate cert = SelfSignedCertificate.create("localhost");
    JsonObject tls = new JsonObject().put("tls", new JsonObject().put("certFile", cert.certificatePath()).put("keyFile", cert.privateKeyPath()));
    h.gateway(tls).compose(g -> vertx.executeBlocking(() -> {
      javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLSv1.2");
      context.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
        public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String type) { }
        public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String type) { }
        public java.security.cert.X509Certificate[] getAcceptedIssuers() { return new java.security.cert.X509Certificate[0]; }
      }}, null);
      try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", g.port())) {
        socket.setSoTimeout(10_000);
        socket.setEnabledProtocols(new String[] {"TLSv1.2"});
        socket.startHandshake();
        String first = exchange(socket);
        String second;
        try {
          socket.startHandshake(); // a renegotiation: TLS 1.2 has them, 1.3 does not
          second = exchange(socket);
        } catch (java.io.IOException refused) {
          second = "refused: " + refused;
        }
        return List.of(first, second);
      }
    })).onComplete(ctx.succeeding(seen -> ctx.verify(() -> {
      assertTrue(seen.get(0).startsWith("HTTP/1.1 200"), "served before: " + seen.get(0));
      assertFalse(seen.get(1).startsWith("HTTP/1.1"), "nothing served after a renegotiation: " + seen.get(1));
      cert.delete();
      ctx.completeNow();
    })));
  }

  /** Sends a GET of /health/live on {@code socket} and returns the answer's status line, or what ended the read. */
  private static String exchange(javax.net.ssl.SSLSocket socket) throws java.io.IOException {
    socket.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
    String line = in.readLine();
    return line == null ? "closed" : line;
  }

  @Test
  void exportsTheBuildVersion(VertxTestContext ctx) {
    h.gateway(new JsonObject()).compose(g -> h.get(g, "/metrics")).onComplete(ctx.succeeding(r -> ctx.verify(() -> {
      assertTrue(r.bodyAsString().contains("biogate_build_info{java=\"" + System.getProperty("java.version") + "\",version=\""
        + BuildInfo.version() + "\"} 1"), r.bodyAsString().lines().filter(l -> l.contains("build")).toList().toString());
      assertTrue(BuildInfo.version().matches("\\d+\\.\\d+\\.\\d+.*"), BuildInfo.version());
      ctx.completeNow();
    })));
  }

  @Test
  void preflightSendsTheTokenToAnUpstreamThatAuthenticatesHealth(Vertx vertx) throws Exception {
    JsonObject secrets = new JsonObject().put("webhooks", new JsonObject()
      .put("linktree", new JsonObject().put("secrets", "whsec_preflight")).put("linkme", new JsonObject().put("secrets", "lm_preflight")));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int failures = new Preflight(vertx, h.config(secrets), new PrintStream(out, true, StandardCharsets.UTF_8)).run(null);
    String text = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, failures, text);
    assertTrue(text.contains("upstream reachable"), text);
    // And the sandbox does demand it: without the token /health is refused.
    int status = h.http.get(h.sandboxPort(), "127.0.0.1", "/health").send().toCompletionStage().toCompletableFuture()
      .get(10, TimeUnit.SECONDS).statusCode();
    assertEquals(401, status);
  }

  /** A rate-limit header that is not a number is a failed check, not the end of preflight ("failed to start" before). */
  @Test
  void preflightReportsARateLimitHeaderThatIsNotANumberAndGoesOn(Vertx vertx) throws Exception {
    io.vertx.core.http.HttpServer upstream = vertx.createHttpServer().requestHandler(req -> req.response()
      .putHeader("Content-Type", "application/json").putHeader("X-RateLimit-Remaining", "abc").end("{\"username\":\"me\"}"));
    int port = upstream.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
    try {
      JsonObject cfg = new JsonObject().put("linktree", new JsonObject().put("apiBase", "http://127.0.0.1:" + port).put("token", "t"));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int failures = new Preflight(vertx, h.config(cfg), new PrintStream(out, true, StandardCharsets.UTF_8)).run(null);
      String text = out.toString(StandardCharsets.UTF_8);
      assertTrue(failures > 0, text);
      assertTrue(text.contains("[FAIL] rate-limit headroom: upstream sent an X-RateLimit-Remaining that is not a whole number"), text);
      assertTrue(text.contains("redis answers PING"), "the checks after it still run: " + text);
    } finally {
      upstream.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
