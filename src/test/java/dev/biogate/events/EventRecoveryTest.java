package dev.biogate.events;

import dev.biogate.Gateway;
import dev.biogate.redis.EmbeddedRedis;
import dev.biogate.destination.OutboundKeys;
import dev.biogate.support.Harness;
import dev.biogate.support.Receiver;
import dev.biogate.support.TestRedis;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Processing survives a stopped instance (its pending destination deliveries are taken over), a slow destination (its
 * holder keeps it) and a Redis restart; ingestion refuses with 503 rather than losing anything.
 */
@ExtendWith(VertxExtension.class)
class EventRecoveryTest {

  private static final int PENDING = 20;

  private Harness h;
  private EmbeddedRedis dedicated;
  private Receiver receiver;

  @AfterEach
  void stop(Vertx vertx, VertxTestContext ctx) {
    Future<Void> sink = receiver == null ? Future.succeededFuture() : receiver.close();
    h.close().compose(v -> sink).compose(v -> vertx.executeBlocking(() -> {
      if (dedicated != null) {
        dedicated.stop();
      }
      return null;
    })).onComplete(ctx.succeedingThenComplete());
  }

  /** A milestone, which the destination in these tests subscribes to. */
  private static Buffer milestone(String linkId) {
    return Deliveries.linktreeEvent("analytics.milestone", new JsonObject().put("link_id", linkId)
      .put("metric", "clicks").put("value", 100).put("threshold", 100));
  }

  @Test
  void anotherInstanceFinishesWhatAStoppedInstanceLeftPending(Vertx vertx, VertxTestContext ctx) {
    receiver = new Receiver(vertx);
    receiver.status.set(500);
    h = new Harness(vertx);
    receiver.start().compose(r -> h.start()).compose(x -> {
      JsonObject destinations = receiver.destinations("ops", "linktree.analytics.milestone");
      // A: every delivery fails and the retry is a minute away, so A holds all entries pending when it goes away.
      JsonObject slowA = Deliveries.config().put("destinations", destinations.copy().put("retryBaseMs", 60_000)
        .put("maxAttempts", 5).put("breakerMaxFailures", 1_000));
      JsonObject b = Deliveries.config().put("destinations", destinations.copy().put("retryBaseMs", 50));
      return h.gateway(slowA).compose(a -> {
        List<Future<?>> sends = new ArrayList<>();
        for (int i = 0; i < PENDING; i++) {
          Buffer body = milestone("l" + i);
          sends.add(h.post(a, "/webhooks/linktree", Deliveries.linktree("p-" + i, body), body));
        }
        return Future.all(sends)
          .compose(v -> h.eventually(() -> Future.succeededFuture(a.outboundStats().failedAttempts() >= PENDING), 10_000))
          .compose(v -> pending())
          .compose(pending -> {
            assertEquals(PENDING, pending, "A holds every delivery, unacknowledged");
            return h.close(a);
          });
      }).compose(v -> {
        receiver.status.set(200);
        return h.gateway(b);
      }).compose(gb -> h.eventually(() -> Future.succeededFuture(gb.outboundStats().handled() >= PENDING), 10_000)
        // "handled" counts when the handler succeeds; the XACK lands just after, so wait for it rather than race it.
        .compose(v -> h.eventually(() -> pending().map(p -> p == 0L), 5_000).otherwiseEmpty())
        .compose(v -> pending())
        .map(pending -> {
          assertEquals(PENDING, gb.outboundStats().claimed(), "B took A's deliveries over with XAUTOCLAIM");
          assertEquals(PENDING, gb.outboundStats().handled());
          assertEquals(PENDING, receiver.delivered().size(), "every event delivered once it could be");
          assertEquals(PENDING, receiver.deliveries(), "and only once");
          assertEquals(0L, pending, "nothing left pending");
          return null;
        }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aSlowDeliveryKeepsItsEntryWhileTheOtherInstanceSweepsForAbandonedOnes(Vertx vertx, VertxTestContext ctx) {
    receiver = new Receiver(vertx);
    // The destination answers after 3 x claimIdleMs: only the holder's heartbeat keeps the entry from being claimed
    // meanwhile.
    receiver.delayMs.set(1_500);
    h = new Harness(vertx);
    receiver.start().compose(r -> h.start()).compose(x -> {
      JsonObject cfg = Deliveries.config().put("destinations", receiver.destinations("ops", "linktree.analytics.milestone"));
      return h.gateway(cfg).compose(a -> h.gateway(cfg).compose(b -> {
        List<Future<?>> sends = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          Buffer body = milestone("l" + i);
          sends.add(h.post(i % 2 == 0 ? a : b, "/webhooks/linktree", Deliveries.linktree("slow-" + i, body), body));
        }
        return Future.all(sends)
          .compose(v -> h.eventually(() -> Future.succeededFuture(
            a.outboundStats().handled() + b.outboundStats().handled() >= 4), 15_000))
          .compose(v -> h.eventually(() -> pending().map(p -> p == 0L), 5_000).otherwiseEmpty())
          .compose(v -> pending())
          .map(pending -> {
            assertEquals(0, a.outboundStats().claimed() + b.outboundStats().claimed(), "no live holder lost an entry");
            assertEquals(4, receiver.requests.size(), "each event delivered once: " + receiver.requests);
            assertEquals(4, receiver.delivered().size());
            assertEquals(4, a.outboundStats().handled() + b.outboundStats().handled());
            assertEquals(0L, pending);
            return null;
          });
      }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void answers503WithRetryAfterWhileRedisIsDownAndResumesAfterItRestarts(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    vertx.executeBlocking(() -> dedicated = TestRedis.dedicated())
      .compose(r -> h.start(r.url(), new JsonObject()))
      .compose(x -> h.gateway(Deliveries.config()))
      .compose(g -> click(g, "before").compose(r -> {
        assertEquals(200, r.statusCode());
        return h.eventually(() -> Future.succeededFuture(g.eventStats().handled() == 1), 5_000);
      }).compose(v -> vertx.executeBlocking(() -> {
        dedicated.stop();
        return null;
      })).compose(v -> click(g, "during")).compose(down -> {
        assertEquals(503, down.statusCode());
        assertEquals("application/json", down.getHeader("Content-Type"));
        assertEquals("unavailable", down.bodyAsJsonObject().getString("error"));
        assertTrue(Long.parseLong(down.getHeader("Retry-After")) >= 1);
        return vertx.executeBlocking(() -> {
          dedicated.restart();
          return null;
        });
      }).compose(v -> h.eventually(() -> click(g, "during").map(r -> r.statusCode() == 200), 10_000))
        .compose(v -> h.eventually(() -> Future.succeededFuture(g.eventStats().handled() == 2), 10_000)))
      .onComplete(ctx.succeedingThenComplete());
  }

  private Future<HttpResponse<Buffer>> click(Gateway g, String id) {
    Buffer body = Deliveries.click(id, "lnk_demo_01");
    return h.post(g, "/webhooks/linkme", Deliveries.linkme(body), body);
  }

  /** Deliveries some instance holds unacknowledged on the outbound stream. */
  private Future<Long> pending() {
    return h.redis(Request.cmd(Command.XPENDING).arg(OutboundKeys.STREAM).arg(OutboundKeys.GROUP)).map(r -> r.get(0).toLong());
  }
}
