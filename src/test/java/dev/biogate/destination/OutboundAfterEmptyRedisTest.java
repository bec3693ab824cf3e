package dev.biogate.destination;

import dev.biogate.support.DedicatedRedisTest;
import dev.biogate.support.Receiver;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Redis coming back empty (a restart without its data, a failover to an empty node) while a destination is down and
 * the instance holds as many outbound entries as it may. Found in a fault drill: the held entries could never be
 * confirmed (their group was gone, which read as "Redis unreachable, keep it") and never left, so the engine never read
 * again, never saw that the group was gone, and never recreated it: webhooks accepted after the restart were not
 * forwarded until the gateway was restarted. The held entries are gone with the group; they now leave with it.
 */
class OutboundAfterEmptyRedisTest extends DedicatedRedisTest {

  /** Entries one instance holds at most on the outbound stream ({@code DestinationSender}). */
  private static final int HELD = 64;

  @Test
  void forwardingResumesAfterRedisCameBackEmptyWhileEveryOutboundSlotWasHeld(VertxTestContext ctx) {
    h.receiver(500).compose(crm -> {
      JsonObject cfg = Deliveries.config().put("destinations", crm.destinations("crm", "linktree.*")
        .put("maxAttempts", 100).put("retryBaseMs", 20).put("retryMaxMs", 200).put("breakerResetMs", 200));
      return h.gateway(cfg).compose(g -> {
        Future<Void> sent = Future.succeededFuture();
        for (int i = 0; i < HELD + 6; i++) {
          String id = "before-" + i;
          sent = sent.compose(v -> send(g, id));
        }
        return sent
          .compose(v -> h.eventually(() -> h.redis(Request.cmd(Command.XPENDING).arg(OutboundKeys.STREAM).arg(OutboundKeys.GROUP))
            .map(r -> r != null && r.get(0).toLong() >= HELD), 10_000))
          .compose(v -> h.redis(Request.cmd(Command.FLUSHALL)))
          .compose(v -> {
            crm.status.set(200);
            return send(g, "after-1");
          })
          .compose(v -> h.eventually(() -> Future.succeededFuture(crm.delivered().contains("after-1")), 20_000))
          .map(v -> {
            assertEquals(1, crm.requests.stream().filter(r -> "after-1".equals(r.deliveryId())).count(), "sent once");
            return null;
          });
      });
    }).onComplete(ctx.succeedingThenComplete());
  }

  private Future<Void> send(dev.biogate.Gateway g, String id) {
    Buffer body = Deliveries.linktreeEvent("link.deleted", new JsonObject().put("link_id", "lnk_" + id));
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, body), body).compose(r -> r.statusCode() == 200
      ? Future.succeededFuture() : Future.failedFuture(id + ": " + r.statusCode() + " " + r.bodyAsString()));
  }
}
