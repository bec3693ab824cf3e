package dev.biogate;

import dev.biogate.support.RawHttp;
import dev.biogate.support.UnstartedHarnessTest;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A stop lets requests in flight finish within {@code http.shutdownGraceMs}. An operator's drill (upstream answering
 * after 25 s, a SIGTERM) saw the requests still waiting at that deadline lose their connection with no answer; they
 * now get a retryable {@code 503 shutting_down} just before it, with {@code Retry-After: 1}, and the connection closes.
 */
class StopAnswersTest extends UnstartedHarnessTest {

  @Test
  void aRequestStillInFlightAtTheStopsDeadlineIsAnswered503(io.vertx.core.Vertx vertx, VertxTestContext ctx) {
    long grace = 800;
    JsonObject overrides = new JsonObject()
      .put("http", new JsonObject().put("shutdownGraceMs", grace))
      .put("linktree", new JsonObject().put("profileTimeoutMs", 30_000));
    long[] stopAt = new long[1];
    NetSocket[] so = new NetSocket[1];
    h.start()
      .compose(x -> h.fault(new JsonObject().put("mode", "slow").put("latency_ms", 20_000)))
      .compose(x -> h.gateway(overrides))
      .compose(g -> raw().connect(g.port()).compose(s -> {
        // A miss on a raw socket (so that the connection's close is seen): its fetch waits on the slow upstream well
        // past the stop's grace. No "Connection: close": the gateway itself must close it after the 503.
        so[0] = s;
        s.write("GET /v1/profiles/alice HTTP/1.1\r\nHost: x\r\nX-Request-Id: stop-client-1\r\n\r\n");
        return h.eventually(() -> h.upstreamCalls("/profiles/alice").map(n -> n >= 1), 10_000);
      }).compose(v -> {
        // Everything the gateway sends until it closes the connection; the stop as a whole is bounded by the grace
        // plus 5 s (README: "Shutdown"), so a connection still open after that is a failure, not a slow machine.
        var answered = raw().untilClosed(so[0], grace + 5_000);
        stopAt[0] = System.nanoTime();
        return h.close(g).compose(x -> answered);
      }))
      .onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
        long closedAfterMs = (System.nanoTime() - stopAt[0]) / 1_000_000;
        assertEquals(1, rs.size(), "one answer, then the connection closed: " + rs);
        RawHttp.Response r = rs.get(0);
        assertEquals(503, r.status(), r.toString());
        assertEquals("shutting_down", new JsonObject(r.body()).getString("error"), r.toString());
        assertEquals("1", r.header("Retry-After"), r.toString());
        assertEquals("close", r.header("Connection"), "the answer announces the close: " + r);
        assertEquals("stop-client-1", r.header("X-Request-Id"), "the client's id, as every answer: " + r);
        assertTrue(String.valueOf(r.header("Content-Type")).startsWith("application/json"), r.toString());
        // "Just before the deadline, at most 250 ms before it": the answer cannot come earlier than that, however
        // slow the machine (the gateway's timer starts after stopAt). No upper bound tighter than the stop's own.
        assertTrue(closedAfterMs >= grace - 250, "answered no earlier than 250 ms before the deadline: " + closedAfterMs + " ms");
        assertTrue(closedAfterMs < grace + 5_000, "answered and closed within the stop's deadline: " + closedAfterMs + " ms");
        ctx.completeNow();
      })));
  }
}
