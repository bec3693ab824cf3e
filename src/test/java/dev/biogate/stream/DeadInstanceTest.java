package dev.biogate.stream;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.HarnessTest;
import dev.biogate.support.Receiver;
import dev.biogate.support.TcpProxy;
import dev.biogate.support.TestRedis;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An instance that dies without shutting down (its Redis connections cut mid-work, no retire) leaves pending events;
 * a live instance notices its heartbeat stop, handles them within 10 s and removes the dead consumer from the group.
 * The idle-claim time stays at the production default (30 s), so only the heartbeat can meet the bound.
 */
class DeadInstanceTest extends HarnessTest {

  private static final Logger LOG = LoggerFactory.getLogger(DeadInstanceTest.class);
  private static final int PENDING = 20;
  private static final long BOUND_MS = 10_000;

  private Receiver alertSink;

  @BeforeEach
  void startAlertSink(VertxTestContext ctx) {
    // Every forward fails until the survivor is up: the victim keeps its events pending.
    h.receiver(500).onSuccess(r -> alertSink = r).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aKilledInstancesPendingEventsAreHandledByAnotherWithinTenSeconds(Vertx vertx, VertxTestContext ctx) {
    URI redis = URI.create(TestRedis.url());
    long[] cutAt = new long[1];
    TcpProxy.start(vertx, redis.getHost(), redis.getPort())
      .compose(proxy -> {
        JsonObject alerts = new JsonObject().put("url", alertSink.url("/alerts"));
        JsonObject victim = Deliveries.config().put("redis", new JsonObject().put("url", "redis://127.0.0.1:" + proxy.port()))
          .put("webhooks", Deliveries.webhooks().put("claimIdleMs", 30_000).put("retryBaseMs", 60_000).put("maxAttempts", 5)
            .put("alerts", alerts));
        JsonObject survivor = Deliveries.config()
          .put("webhooks", Deliveries.webhooks().put("claimIdleMs", 30_000).put("alerts", alerts));
        return h.gateway(victim).compose(a -> {
          List<Future<?>> sends = new ArrayList<>();
          for (int i = 0; i < PENDING; i++) {
            Buffer body = Deliveries.milestone("dead-" + i, 100);
            sends.add(h.post(a, "/webhooks/linktree", Deliveries.linktree("dead-" + i, body), body));
          }
          return Future.all(sends)
            .compose(v -> h.eventually(() -> Future.succeededFuture(a.eventStats().failedAttempts() >= PENDING), 10_000))
            .compose(v -> h.gateway(survivor))
            .compose(b -> {
              alertSink.answer(200);
              cutAt[0] = System.currentTimeMillis();
              // The victim's host dies: every connection to Redis gone, nothing handed back.
              return proxy.cut()
                .compose(v -> h.eventually(() -> Future.succeededFuture(alertSink.delivered().size() == PENDING), BOUND_MS + 5_000))
                .map(v -> {
                  long failoverMs = System.currentTimeMillis() - cutAt[0];
                  LOG.info("failover: {} pending events of the killed instance handled {} ms after it died", PENDING, failoverMs);
                  assertTrue(failoverMs <= BOUND_MS, "handled within " + BOUND_MS + " ms, took " + failoverMs);
                  assertEquals(PENDING, b.eventStats().claimed(), "the survivor claimed the dead instance's entries");
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
    // Every shard's group: the dead consumer must be gone from all of them.
    List<Future<io.vertx.redis.client.Response>> all = new ArrayList<>();
    for (int s = 0; s < dev.biogate.support.Sharded.SHARDS.count(); s++) {
      all.add(h.redis(Request.cmd(Command.XINFO).arg("CONSUMERS").arg(RedisKeys.eventsShard(s)).arg(RedisKeys.EVENTS_GROUP)));
    }
    return Future.all(all).map(v -> all.stream().map(f -> f.result().toString()).collect(java.util.stream.Collectors.joining(",")));
  }
}
