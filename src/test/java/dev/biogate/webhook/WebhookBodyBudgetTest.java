package dev.biogate.webhook;

import dev.biogate.support.HarnessTest;
import dev.biogate.support.RawHttp;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Webhook bodies being received share one budget of memory per instance. Found with raw sockets: a request that
 * declared a 256 KiB body had a buffer of that size allocated at once (it is sized from {@code Content-Length}) and
 * kept while the body never came; 2,000 such connections, a few bytes each, ran a 160 MB heap out of memory and the
 * process exited. Bodies now take the budget as their bytes arrive (declaring a length takes nothing:
 * {@link BodyBudgetShareTest}); a delivery whose declared body would take it past {@code webhooks.maxBufferedBytes}
 * is answered 503 with {@code Retry-After} before its body is read (the sender retries, nothing is lost), and the
 * budget is given back when the exchange ends, however it ends.
 */
class WebhookBodyBudgetTest extends HarnessTest {

  private static final int DECLARED = 256 * 1024;
  private final List<NetSocket> held = new ArrayList<>();

  @Override
  protected JsonObject gatewayOverrides() {
    // Stalled bodies here hold the budget for the whole test: none gives way to a newcomer within it (that is
    // BodyBudgetShareTest's).
    return new JsonObject().put("webhooks", new JsonObject().put("maxBufferedBytes", 520 * 1024).put("slowBodyMs", 600_000)
      .put("linktree", new JsonObject().put("secrets", "whsec_budget_test_secret")));
  }

  @AfterEach
  void closeHeld() {
    held.forEach(NetSocket::close);
  }

  private static String head(int length) {
    return "POST /webhooks/linktree HTTP/1.1\r\nHost: x\r\n" + RawHttp.FORGED_LINKTREE_SIGNATURE + "Content-Type: application/json\r\nContent-Length: " + length + "\r\n\r\n";
  }

  /** A probe's head: the connection closes after the answer, so the exchange ends there, body read or not. */
  private static String probe(int length) {
    return head(length).replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n");
  }

  @Test
  void aDeliveryPastTheBudgetIs503BeforeItsBodyIsRead(Vertx vertx, VertxTestContext ctx) {
    holdStalled(vertx, 2)
      .compose(v -> raw().exchange(g.port(), probe(DECLARED) + "{", 5_000))
      .onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
        assertEquals(1, rs.size(), rs.toString());
        assertEquals(503, rs.get(0).status(), rs.toString());
        assertEquals("ingest_busy", new JsonObject(rs.get(0).body()).getString("error"), rs.toString());
        assertEquals("1", rs.get(0).header("Retry-After"), rs.toString());
        ctx.completeNow();
      })));
  }

  @Test
  void aKeepAliveDeliveryAnsweredBeforeItsBodyHasItsConnectionClosed(Vertx vertx, VertxTestContext ctx) {
    // No "Connection: close" from the sender: the unread body would be taken for the next request, so the gateway
    // closes the connection after its 503 (untilClosed fails if it stays open).
    holdStalled(vertx, 2)
      .compose(v -> raw().exchange(g.port(), head(DECLARED) + "{", 5_000))
      .onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
        assertEquals(1, rs.size(), rs.toString());
        assertEquals(503, rs.get(0).status(), rs.toString());
        assertEquals("ingest_busy", new JsonObject(rs.get(0).body()).getString("error"), rs.toString());
        ctx.completeNow();
      })));
  }

  @Test
  void theBudgetIsGivenBackWhenAStalledSenderLeaves(Vertx vertx, VertxTestContext ctx) {
    holdStalled(vertx, 2)
      .compose(v -> {
        held.remove(0).close();
        held.remove(0).close();
        // Past the budget check: refused for its signature, not for memory.
        return dev.biogate.support.Eventually.until(vertx, () -> raw().exchange(g.port(),
            probe(DECLARED) + "{" + " ".repeat(DECLARED - 2) + "}", 5_000)
          .map(rs -> rs.size() == 1 && rs.get(0).status() == 403), 10_000, "the budget given back");
      })
      .onComplete(ctx.succeedingThenComplete());
  }

  /** {@code n} senders that declared a full-size body, sent all of it but its last byte and stalled; each seen held. */
  private Future<Void> holdStalled(Vertx vertx, int n) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < n; i++) {
      chain = chain.compose(v -> raw().connect(g.port()).map(so -> {
        so.write(head(DECLARED) + "{" + " ".repeat(DECLARED - 2));
        held.add(so);
        return null;
      }));
    }
    // The gateway reads the bodies in no set order: wait until a 10 KiB delivery is refused for memory, which it is
    // only once both stalled senders hold their bytes (8 KiB of the budget is left then).
    return chain.compose(v -> dev.biogate.support.Eventually.until(vertx,
      () -> raw().exchange(g.port(), probe(10 * 1024) + "{", 2_000).map(rs -> rs.size() == 1 && rs.get(0).status() == 503),
      15_000, "both stalled senders admitted"));
  }
}
