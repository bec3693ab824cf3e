package dev.biogate.stream;

import dev.biogate.destination.OutboundKeys;
import dev.biogate.support.Harness;
import dev.biogate.support.Receiver;
import dev.biogate.support.TcpProxy;
import dev.biogate.support.TestRedis;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An instance that dies without shutting down (its Redis connections cut mid-work, no retire) leaves pending
 * deliveries to a destination; a live instance notices its heartbeat stop, makes them within 10 s and removes the dead
 * consumer from the group.
 * The idle-claim time stays at the production default (30 s), so only the heartbeat can meet the bound.
 */
@ExtendWith(VertxExtension.class)
class DeadInstanceTest {

  private static final Logger LOG = LoggerFactory.getLogger(DeadInstanceTest.class);
  private static final int PENDING = 20;
  private static final long BOUND_MS = 10_000;

  private Harness h;
  private Receiver receiver;

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().eventually(() -> receiver.close()).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aKilledInstancesPendingDeliveriesAreMadeByAnotherWithinTenSeconds(Vertx vertx, VertxTestContext ctx) {
    receiver = new Receiver(vertx);
    receiver.status.set(500);
    h = new Harness(vertx);
    URI redis = URI.create(TestRedis.url());
    long[] cutAt = new long[1];
    receiver.start().compose(r -> h.start()).compose(x -> TcpProxy.start(vertx, redis.getHost(), redis.getPort()))
      .compose(proxy -> {
        JsonObject destinations = receiver.destinations("ops", "linktree.analytics.milestone");
        JsonObject victim = Deliveries.config().put("redis", new JsonObject().put("url", "redis://127.0.0.1:" + proxy.port()))
          .put("webhooks", Deliveries.webhooks().put("claimIdleMs", 30_000))
          .put("destinations", destinations.copy().put("retryBaseMs", 60_000).put("maxAttempts", 5).put("breakerMaxFailures", 1_000));
        JsonObject survivor = Deliveries.config().put("webhooks", Deliveries.webhooks().put("claimIdleMs", 30_000))
          .put("destinations", destinations.copy().put("retryBaseMs", 50));
        return h.gateway(victim).compose(a -> {
          List<Future<?>> sends = new ArrayList<>();
          for (int i = 0; i < PENDING; i++) {
            Buffer body = Deliveries.linktreeEvent("analytics.milestone", new JsonObject().put("link_id", "dead-" + i)
              .put("metric", "clicks").put("value", 100).put("threshold", 100));
            sends.add(h.post(a, "/webhooks/linktree", Deliveries.linktree("dead-" + i, body), body));
          }
          return Future.all(sends)
            .compose(v -> h.eventually(() -> Future.succeededFuture(a.outboundStats().failedAttempts() >= PENDING), 10_000))
            .compose(v -> h.gateway(survivor))
            .compose(b -> {
              receiver.status.set(200);
              cutAt[0] = System.currentTimeMillis();
              // The victim's host dies: every connection to Redis gone, nothing handed back.
              return proxy.cut()
                .compose(v -> h.eventually(() -> Future.succeededFuture(receiver.delivered().size() == PENDING), BOUND_MS + 5_000))
                .map(v -> {
                  long failoverMs = System.currentTimeMillis() - cutAt[0];
                  LOG.info("failover: {} pending deliveries of the killed instance made {} ms after it died", PENDING, failoverMs);
                  assertTrue(failoverMs <= BOUND_MS, "made within " + BOUND_MS + " ms, took " + failoverMs);
                  assertEquals(PENDING, b.outboundStats().claimed(), "the survivor claimed the dead instance's entries");
                  return a.instanceId();
                })
                .compose(deadName -> h.eventually(() -> consumers().map(c -> !c.contains(deadName)), 5_000)
                  .compose(v -> consumers()).map(c -> {
                    assertFalse(c.contains(deadName), "the dead consumer left the group: " + c);
                    assertTrue(c.contains(b.instanceId()));
                    return null;
                  }));
            });
        });
      }).onComplete(ctx.succeedingThenComplete());
  }

  private Future<String> consumers() {
    return h.redis(Request.cmd(Command.XINFO).arg("CONSUMERS").arg(OutboundKeys.STREAM).arg(OutboundKeys.GROUP))
      .map(Object::toString);
  }
}
