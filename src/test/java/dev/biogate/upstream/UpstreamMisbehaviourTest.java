package dev.biogate.upstream;

import dev.biogate.Gateway;
import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An upstream that misbehaves on the wire cannot crash, hold or rob the gateway. Found with a hand-made upstream:
 * a 400 MB answer was read whole into the heap (a 160 MiB heap ran out and the process exited); an answer trickled a
 * byte every 5 s held the read for as long as it went on (the request timeout restarted with every byte); and a 302
 * to another host was followed with the Linktree token in its {@code Authorization} header, its 404 then remembered
 * as "no such profile".
 */
class UpstreamMisbehaviourTest extends HarnessTest {

  /**
   * What the misbehaving upstream offers: far past the 4 MiB cap, and far past what loopback carries while the
   * gateway's close of the connection waits its turn on a loaded host (one run with the test classes in two JVMs saw
   * 57 MiB go through before the close, against an offer of 64 MiB).
   */
  private static final long HUGE = 512L * 1024 * 1024;

  private final List<HttpServer> servers = new ArrayList<>();
  private final List<Long> timers = new ArrayList<>();

  @AfterEach
  void stopServers(Vertx vertx, VertxTestContext ctx) {
    timers.forEach(vertx::cancelTimer);
    Future.all(servers.stream().map(HttpServer::close).toList()).onComplete(ctx.succeedingThenComplete());
  }

  private Future<HttpServer> serve(Vertx vertx, io.vertx.core.Handler<io.vertx.core.http.HttpServerRequest> handler) {
    HttpServer server = vertx.createHttpServer().requestHandler(handler);
    servers.add(server);
    return server.listen(0, "127.0.0.1");
  }

  private Future<Gateway> gatewayOn(HttpServer upstream, long timeoutMs) {
    return h.gateway(new JsonObject().put("linktree", new JsonObject()
      .put("apiBase", "http://127.0.0.1:" + upstream.actualPort()).put("token", "upstream-secret-token")
      .put("profileTimeoutMs", timeoutMs).put("maxRetries", 0).put("breakerMaxFailures", 100)));
  }

  /** A read with a deadline of its own: a gateway that never answers fails the test instead of hanging it. */
  private Future<HttpResponse<Buffer>> read(Gateway g, String name) {
    return h.http.get(g.port(), "127.0.0.1", "/v1/profiles/" + name).timeout(20_000).send();
  }

  private static void assertUnavailable(HttpResponse<Buffer> r) {
    assertEquals(503, r.statusCode(), r.bodyAsString());
    assertEquals("upstream_unavailable", r.bodyAsJsonObject().getString("error"), r.bodyAsString());
    assertNotNull(r.getHeader("Retry-After"), r.headers().toString());
  }

  @Test
  void anAnswerLargerThanTheCapFailsTheReadBeforeItIsReadWhole(Vertx vertx, VertxTestContext ctx) {
    AtomicLong written = new AtomicLong();
    Buffer chunk = Buffer.buffer(new byte[1024 * 1024]);
    serve(vertx, req -> {
      HttpServerResponse resp = req.response().setChunked(true).putHeader("Content-Type", "application/json");
      resp.write("{\"username\":\"big\",\"bio\":\"");
      vertx.setPeriodic(1, id -> {
        while (!resp.writeQueueFull() && written.get() < HUGE && !resp.closed()) {
          resp.write(chunk);
          written.addAndGet(chunk.length());
        }
        if (resp.closed() || written.get() >= HUGE) {
          vertx.cancelTimer(id);
          if (!resp.closed()) {
            resp.end("\"}");
          }
        }
      });
    })
      .compose(upstream -> gatewayOn(upstream, 10_000))
      .compose(g -> read(g, "big"))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertUnavailable(r);
        assertTrue(written.get() < HUGE / 2, "the gateway stopped reading the answer: " + written.get() + " bytes were sent");
        ctx.completeNow();
      })));
  }

  /**
   * Each answer within the cap, the profile's links together past it: an attack pass served 50 pages of 3.3 MB, and
   * the links assembled as JSON trees ran a 160 MiB heap out of memory at the eighth page. The walk now stops once
   * the links add up to more than an answer may hold (here after the fourth page of ten of 1 MiB), and the read is a 503.
   */
  @Test
  void linksAddingUpToMoreThanAnAnswerMayHoldFailTheRead(Vertx vertx, VertxTestContext ctx) {
    AtomicInteger pages = new AtomicInteger();
    String title = "t".repeat(1024 * 1024);
    serve(vertx, req -> {
      boolean first = !req.path().endsWith("/links");
      int page = first ? 0 : Integer.parseInt(req.getParam("cursor"));
      pages.incrementAndGet();
      JsonArray links = new JsonArray().add(new JsonObject().put("id", "lnk_" + page).put("title", title)
        .put("url", "https://example.com/" + page).put("position", page));
      String next = page < 9 ? Integer.toString(page + 1) : null;
      JsonObject body = first
        ? new JsonObject().put("username", "heavy").put("bio", "").put("links", links).put("links_next_cursor", next)
        : new JsonObject().put("data", links).put("next_cursor", next);
      req.response().putHeader("Content-Type", "application/json").end(body.toBuffer());
    })
      .compose(upstream -> gatewayOn(upstream, 10_000))
      .compose(g -> read(g, "heavy"))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertUnavailable(r);
        assertEquals(4, pages.get(), "the walk stopped past 4 MiB of links");
        ctx.completeNow();
      })));
  }

  @Test
  void anAnswerTrickledByteByByteEndsAtTheTimeout(Vertx vertx, VertxTestContext ctx) {
    AtomicInteger closedByGateway = new AtomicInteger();
    serve(vertx, req -> {
      HttpServerResponse resp = req.response().setChunked(true).putHeader("Content-Type", "application/json");
      resp.closeHandler(v -> closedByGateway.incrementAndGet());
      resp.write("{");
      timers.add(vertx.setPeriodic(100, id -> {
        if (!resp.closed()) {
          resp.write(" ");
        }
      }));
    })
      .compose(upstream -> gatewayOn(upstream, 600))
      .compose(g -> read(g, "drip"))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertUnavailable(r);
        h.eventually(() -> Future.succeededFuture(closedByGateway.get() == 1), 5_000)
          .onComplete(ctx.succeedingThenComplete());
      })));
  }

  @Test
  void aRedirectIsNotFollowedAndItsTargetNeverSeesTheToken(Vertx vertx, VertxTestContext ctx) {
    List<String> stolen = new ArrayList<>();
    serve(vertx, req -> {
      stolen.add(req.path() + " " + req.getHeader("Authorization"));
      req.response().setStatusCode(404).end();
    })
      .compose(elsewhere -> serve(vertx, req -> req.response().setStatusCode(302)
        .putHeader("Location", "http://127.0.0.1:" + elsewhere.actualPort() + "/steal").end()))
      .compose(upstream -> gatewayOn(upstream, 10_000))
      .compose(g -> read(g, "moved").compose(first -> read(g, "moved").map(second -> List.of(first, second))))
      .onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
        assertUnavailable(rs.get(0));
        assertUnavailable(rs.get(1)); // not remembered as a 404
        assertEquals(List.of(), stolen, "the redirect's target was called");
        ctx.completeNow();
      })));
  }

  /**
   * A read, retries included, ends within the profile timeout. Found with a slow upstream: each of the three attempts
   * had the whole 10 s, so a first reader waited 30 s for its 503 and the read spent three permits of the budget.
   */
  @Test
  void aReadThatTimesOutIsNotRetriedPastItsTimeout(Vertx vertx, VertxTestContext ctx) {
    AtomicInteger calls = new AtomicInteger();
    serve(vertx, req -> calls.incrementAndGet()) // never answered
      .compose(upstream -> h.gateway(new JsonObject().put("linktree", new JsonObject()
        .put("apiBase", "http://127.0.0.1:" + upstream.actualPort()).put("profileTimeoutMs", 600)
        .put("maxRetries", 2).put("retryBaseDelayMs", 1).put("retryMaxDelayMs", 1).put("breakerMaxFailures", 100))))
      .compose(g -> read(g, "slow"))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertUnavailable(r);
        assertEquals(1, calls.get(), "upstream calls for one read");
        ctx.completeNow();
      })));
  }

  /** An upstream fault answered at once is still retried within the timeout. */
  @Test
  void aQuickFaultIsRetriedWithinTheTimeout(Vertx vertx, VertxTestContext ctx) {
    AtomicInteger calls = new AtomicInteger();
    serve(vertx, req -> {
      if (calls.incrementAndGet() < 3) {
        req.response().setStatusCode(502).end();
      } else {
        req.response().putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("username", "flaky").put("links", new io.vertx.core.json.JsonArray()).encode());
      }
    })
      .compose(upstream -> h.gateway(new JsonObject().put("linktree", new JsonObject()
        .put("apiBase", "http://127.0.0.1:" + upstream.actualPort()).put("profileTimeoutMs", 10_000)
        .put("maxRetries", 2).put("retryBaseDelayMs", 1).put("retryMaxDelayMs", 1).put("breakerMaxFailures", 100))))
      .compose(g -> read(g, "flaky"))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals(200, r.statusCode(), r.bodyAsString());
        assertEquals(3, calls.get(), "upstream calls for one read");
        ctx.completeNow();
      })));
  }

  /**
   * Every upstream request carries the bearer token in {@code Authorization} (never in the query),
   * {@code Accept: application/json} and {@code Content-Type: application/json}, as the integration checklist asks of
   * every request; reads carried no {@code Content-Type} (a conformance client's observation).
   */
  @Test
  void everyUpstreamRequestCarriesTheTokenAcceptAndContentType(Vertx vertx, VertxTestContext ctx) {
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    serve(vertx, req -> {
      seen.add(req.method() + " " + req.uri() + " | " + req.getHeader("Authorization") + " | " + req.getHeader("Accept")
        + " | " + req.getHeader("Content-Type"));
      req.response().putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("username", "plain").put("links", new io.vertx.core.json.JsonArray()).encode());
    })
      .compose(upstream -> gatewayOn(upstream, 10_000))
      .compose(g -> read(g, "plain"))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals(200, r.statusCode(), r.bodyAsString());
        assertTrue(!seen.isEmpty(), "the upstream was called");
        for (String call : seen) {
          assertEquals("Bearer upstream-secret-token | application/json | application/json", call.substring(call.indexOf(" | ") + 3), call);
          assertTrue(!call.substring(0, call.indexOf(" | ")).contains("upstream-secret-token"), "no token in the URL: " + call);
        }
        ctx.completeNow();
      })));
  }
}
