package dev.biogate.upstream;

import dev.biogate.support.HarnessTest;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The probe an idle half-open breaker makes by itself ({@code GET /health}) judges the upstream by its status alone.
 * An upstream's health check may answer plain text ({@code OK}); read as a profile, that was "malformed JSON", an
 * upstream fault, and the breaker reopened at every probe while the upstream served profiles again.
 */
class IdleProbeTest extends HarnessTest {

  private HttpServer upstream;

  @Override
  protected JsonObject gatewayOverrides() {
    return null;
  }

  @AfterEach
  void stopUpstream(VertxTestContext ctx) {
    (upstream == null ? Future.succeededFuture() : upstream.close()).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aPlainTextHealthAnswerClosesTheBreaker(Vertx vertx, VertxTestContext ctx) {
    AtomicBoolean failing = new AtomicBoolean(true);
    AtomicInteger healthCalls = new AtomicInteger();
    upstream = vertx.createHttpServer().requestHandler(req -> {
      if (req.path().equals("/health")) {
        healthCalls.incrementAndGet();
        req.response().putHeader("Content-Type", "text/plain").end("OK");
      } else if (failing.get()) {
        req.response().setStatusCode(500).end();
      } else {
        req.response().putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("username", "x").put("links", new io.vertx.core.json.JsonArray()).encode());
      }
    });
    upstream.listen(0, "127.0.0.1")
      .compose(server -> h.gateway(new JsonObject().put("linktree", new JsonObject()
        .put("apiBase", "http://127.0.0.1:" + server.actualPort()).put("maxRetries", 0).put("breakerResetMs", 300))))
      .compose(g -> {
        Future<Void> chain = Future.succeededFuture();
        for (String name : List.of("u1", "u2", "u3", "u4", "u5")) {
          chain = chain.compose(v -> h.get(g, "/v1/profiles/" + name).mapEmpty());
        }
        return chain.map(v -> {
          assertEquals(CircuitBreakerState.OPEN, g.upstream().breakerState());
          failing.set(false);
          return g;
        });
      })
      .compose(g -> h.eventually(() -> Future.succeededFuture(g.upstream().breakerState() == CircuitBreakerState.CLOSED), 10_000))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertTrue(healthCalls.get() >= 1, "closed by the probe of /health");
        ctx.completeNow();
      })));
  }
}
