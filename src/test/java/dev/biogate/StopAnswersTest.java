package dev.biogate;

import dev.biogate.support.UnstartedHarnessTest;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A stop lets requests in flight finish within {@code http.shutdownGraceMs}. An operator's drill (upstream answering
 * after 25 s, a SIGTERM) saw the requests still waiting at that deadline lose their connection with no answer; they
 * now get a retryable {@code 503 shutting_down} just before it.
 */
class StopAnswersTest extends UnstartedHarnessTest {

  @Test
  void aRequestStillInFlightAtTheStopsDeadlineIsAnswered503(io.vertx.core.Vertx vertx, VertxTestContext ctx) {
    long grace = 800;
    JsonObject overrides = new JsonObject()
      .put("http", new JsonObject().put("shutdownGraceMs", grace))
      .put("linktree", new JsonObject().put("profileTimeoutMs", 30_000));
    long[] stopAt = new long[1];
    h.start()
      .compose(x -> h.fault(new JsonObject().put("mode", "slow").put("latency_ms", 20_000)))
      .compose(x -> h.gateway(overrides))
      .compose(g -> {
        // A miss: its fetch waits on the slow upstream well past the stop's grace.
        Future<HttpResponse<Buffer>> read = h.get(g, "/v1/profiles/alice");
        return h.eventually(() -> h.upstreamCalls("/profiles/alice").map(n -> n >= 1), 10_000)
          .compose(v -> {
            stopAt[0] = System.nanoTime();
            return h.close(g);
          })
          .compose(v -> read);
      })
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        long answeredAfterMs = (System.nanoTime() - stopAt[0]) / 1_000_000;
        assertEquals(503, r.statusCode(), r.bodyAsString());
        assertEquals("shutting_down", r.bodyAsJsonObject().getString("error"));
        assertTrue(r.getHeader("Retry-After") != null, "Retry-After");
        assertEquals("application/json", r.getHeader("Content-Type"));
        assertTrue(answeredAfterMs < grace + 5_000, "answered within the stop's deadline: " + answeredAfterMs + " ms");
        ctx.completeNow();
      })));
  }
}
