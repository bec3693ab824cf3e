package dev.biogate.webhook;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.SentinelGroup;
import dev.biogate.support.LogCapture;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.Sharded;
import dev.biogate.support.TestSentinel;
import dev.biogate.support.UnstartedHarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Webhooks sent straight through a {@code SENTINEL FAILOVER}: every delivery answered 200 is on the new master once the
 * group has settled, everything else was a retryable 503. Sentinel promotes the replica first and turns the old
 * master into a replica only when it next looks at it (up to 10 s later); in between the old master still takes
 * writes, which its resync with the new master then discards. A drill of a running gateway lost every delivery it
 * answered 200 in that window: the old master had no replica any more, so the ingest stopped waiting for one. With two
 * replicas the old master keeps one for a while (the other is promoted): a later drill lost 9 of 3,110 and 19 of
 * 2,074 deliveries answered 200 that way, acknowledged by the replica that was not promoted and then resynced.
 */
class SentinelFailoverDeliveriesTest extends UnstartedHarnessTest {

  private static final int SENDERS = 4;
  private static final long RETRY_PAUSE_MS = 50;

  @Test
  @Tag("drill")
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  void everyDeliveryAnswered200IsOnTheNewMaster(Vertx vertx, VertxTestContext ctx) {
    run(TestSentinel.get(), vertx, ctx);
  }

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  void withTwoReplicasEveryDeliveryAnswered200IsOnTheNewMaster(Vertx vertx, VertxTestContext ctx) {
    run(TestSentinel.twoReplicas(), vertx, ctx);
  }

  /**
   * Two faults in a row: a failover, and the promoted master lost before the old one has resynced from it (here
   * frozen, so that it cannot). The second failover promotes the old master, which never held what the first promoted
   * one took since. A re-drill lost 238 of 839 deliveries answered 200 so (two {@code SENTINEL FAILOVER}s 14 s apart,
   * then a kill of the master): the promoted master had no replica in sync and, confirmed by the Sentinels, was
   * trusted alone. It is held now ({@code webhooks.replicaLossHoldMs}): its deliveries are answered 503 until a
   * replica is in sync.
   */
  @Test
  @Timeout(value = 150, timeUnit = TimeUnit.SECONDS)
  void losingThePromotedMasterBeforeTheOldOneResyncedLosesNoDeliveryAnswered200(Vertx vertx, VertxTestContext ctx) {
    TestSentinel group = TestSentinel.get();
    Map<String, Buffer> accepted = new ConcurrentHashMap<>();
    AtomicInteger refused = new AtomicInteger();
    AtomicInteger other = new AtomicInteger();
    AtomicBoolean sending = new AtomicBoolean(true);
    RedisProcess[] old = new RedisProcess[1];
    warmGateway(group, vertx)
      .compose(g -> {
        List<Future<Void>> senders = new ArrayList<>();
        for (int s = 0; s < SENDERS; s++) {
          senders.add(send(g, "d" + s + "-", 0, sending, accepted, refused, other));
        }
        return h.eventually(() -> Future.succeededFuture(accepted.size() >= 50), 15_000)
          .compose(v -> vertx.executeBlocking(() -> {
            old[0] = group.master();
            RedisProcess promoted = group.promote(0);
            // Frozen before it follows the promoted replica: it cannot resync, as a host that hangs cannot.
            old[0].pause();
            return promoted;
          }))
          // The gateway has sampled the promoted master (alone or held), and senders had answers from it since.
          .compose(promoted -> h.eventually(() -> Future.succeededFuture(!g.replicas().waitForReplica(0)
            || g.replicas().cannotMakeDurable(0) && g.replicas().unconfirmedShards() == 0), 15_000).map(promoted))
          .compose(promoted -> {
            int answered = accepted.size() + refused.get() + other.get();
            return h.eventually(() -> Future.succeededFuture(accepted.size() + refused.get() + other.get() >= answered + 40),
              15_000).map(promoted);
          })
          .compose(promoted -> vertx.executeBlocking(() -> {
            promoted.kill();
            old[0].resume();
            group.awaitAnotherMaster(promoted.port());
            group.settle();
            return null;
          }))
          .compose(v -> h.eventually(() -> post(g, "after-" + System.nanoTime()).map(r -> r.statusCode() == 200), 45_000))
          .compose(v -> {
            sending.set(false);
            return Future.join(senders);
          });
      })
      .compose(v -> vertx.executeBlocking(() -> missing(group.master(), accepted)))
      .onComplete(ar -> {
        if (old[0] != null) {
          old[0].resume();
        }
        ctx.verify(() -> {
          List<String> missing = ar.result();
          assertEquals(true, ar.succeeded(), String.valueOf(ar.cause()));
          assertEquals(0, other.get(), "every answer is 200 or a retryable 503");
          assertEquals(List.of(), missing, missing.size() + " of " + accepted.size()
            + " deliveries answered 200 are not on the master that remained (" + refused.get() + " answered 503)");
          ctx.completeNow();
        });
      });
  }

  /** A gateway on the emptied group, ready and past its first accepted delivery. */
  private Future<Gateway> warmGateway(TestSentinel group, Vertx vertx) {
    return vertx.executeBlocking(() -> {
        group.flushAll();
        return group.redisConfig();
      })
      .compose(redis -> h.startOn(redis))
      .compose(x -> h.gateway(Deliveries.config().put("webhooks", Deliveries.webhooks().put("replicaWaitMs", 500))))
      .compose(g -> h.eventually(() -> h.get(g, "/health/ready").map(r -> r.statusCode() == 200), 15_000)
        .compose(ready -> h.eventually(() -> post(g, "warm-" + System.nanoTime()).map(r -> r.statusCode() == 200), 15_000))
        .map(g));
  }

  private static List<String> missing(RedisProcess master, Map<String, Buffer> accepted) {
    List<String> missing = new ArrayList<>();
    accepted.forEach((id, body) -> {
      String marker = RedisKeys.webhookDedupe(Sharded.SHARDS.ofDigestHex(Envelopes.contentDigest("linktree", body)),
        "linktree", "id", id);
      if (!Long.valueOf(1).equals(master.call("EXISTS", marker))) {
        missing.add(id);
      }
    });
    return missing;
  }

  private void run(TestSentinel group, Vertx vertx, VertxTestContext ctx) {
    Map<String, Buffer> accepted = new ConcurrentHashMap<>();
    AtomicInteger refused = new AtomicInteger();
    AtomicInteger other = new AtomicInteger();
    AtomicBoolean sending = new AtomicBoolean(true);
    LogCapture announced = LogCapture.of(SentinelGroup.class, e -> e.getFormattedMessage().startsWith("sentinel announced a new master")
      ? e.getFormattedMessage() : null);
    warmGateway(group, vertx)
      .compose(g -> {
        List<Future<Void>> senders = new ArrayList<>();
        for (int s = 0; s < SENDERS; s++) {
          senders.add(send(g, "s" + s + "-", 0, sending, accepted, refused, other));
        }
        // Traffic before, during and after the failover; failover() returns once the old master is a replica again,
        // and deliveries go on until the new master has accepted some.
        return vertx.timer(500)
          .compose(t -> vertx.executeBlocking(group::failover))
          .compose(master -> {
            int after = accepted.size() + 20;
            return h.eventually(() -> Future.succeededFuture(accepted.size() > Math.max(after, 50)), 15_000);
          })
          .compose(t -> {
            sending.set(false);
            return Future.join(senders);
          })
          .map(g);
      })
      .compose(g -> vertx.executeBlocking(() -> missing(group.master(), accepted)))
      .onComplete(ctx.succeeding(missing -> ctx.verify(() -> {
        announced.close();
        // Each Sentinel announces the switch; the gateway acts on (and reports) the first.
        assertEquals(1, announced.lines().size(), announced.lines().toString());
        assertEquals(0, other.get(), "every answer is 200 or a retryable 503");
        assertTrue(accepted.size() > 50, "deliveries were accepted around the failover: " + accepted.size());
        assertEquals(List.of(), missing, missing.size() + " of " + accepted.size() + " deliveries answered 200 are not on the new master ("
          + refused.get() + " answered 503)");
        ctx.completeNow();
      })));
  }

  /**
   * One sender: posts distinct deliveries one after the other until told to stop, pausing after a 503 as a provider
   * would (they are answered at once while the master is unconfirmed). Each post starts from the previous answer's
   * callback, so the sender builds no chain of futures however many it sends.
   */
  private Future<Void> send(Gateway g, String prefix, int n, AtomicBoolean sending, Map<String, Buffer> accepted,
                            AtomicInteger refused, AtomicInteger other) {
    Promise<Void> done = Promise.promise();
    sendFrom(g, prefix, n, sending, accepted, refused, other, done);
    return done.future();
  }

  private void sendFrom(Gateway g, String prefix, int n, AtomicBoolean sending, Map<String, Buffer> accepted,
                        AtomicInteger refused, AtomicInteger other, Promise<Void> done) {
    if (!sending.get()) {
      done.complete();
      return;
    }
    String id = prefix + n;
    Buffer body = body(id);
    h.post(g, "/webhooks/linktree", Deliveries.linktree(id, body), body).onComplete(ar -> {
      long pause = 0;
      if (ar.succeeded() && ar.result().statusCode() == 200) {
        accepted.put(id, body);
      } else if (ar.succeeded() && ar.result().statusCode() == 503) {
        refused.incrementAndGet();
        pause = RETRY_PAUSE_MS;
      } else {
        other.incrementAndGet();
      }
      if (pause > 0) {
        h.vertx.setTimer(pause, t -> sendFrom(g, prefix, n + 1, sending, accepted, refused, other, done));
      } else {
        sendFrom(g, prefix, n + 1, sending, accepted, refused, other, done);
      }
    });
  }

  private Future<io.vertx.ext.web.client.HttpResponse<Buffer>> post(Gateway g, String id) {
    Buffer body = body(id);
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, body), body);
  }

  private static Buffer body(String id) {
    return Deliveries.linktreeEvent("link.deleted", new JsonObject().put("link_id", id).put("username", "nobody"));
  }
}
