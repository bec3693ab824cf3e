package dev.biogate.cluster;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.Shards;
import dev.biogate.support.Harness;
import dev.biogate.support.Sharded;
import dev.biogate.support.TestCluster;
import dev.biogate.support.Topology;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.impl.ZModem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import io.vertx.junit5.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Webhooks keep flowing while the Cluster master holding shard 0's events stream dies under 8 concurrent senders:
 * <ul>
 *   <li>every delivery answered 200 is handled afterwards (the ingest waits for a replica before answering), everything
 *       else is a retryable 503;</li>
 *   <li>deliveries whose keys all live on the other masters (their delivery-id route and their shard) are answered
 *       200 throughout: a dead master fails only its own slots;</li>
 *   <li>deliveries touching the dead master's slots are answered 200 again once its replica has taken over.</li>
 * </ul>
 * Logged ({@code webhook failover: ...}): the cluster's own failover time (kill → the replica serves the slots on
 * every node), the time from the kill to the first 200 for a delivery touching the dead master's slots (asserted
 * within 6 s, the bound, argued below), and the client's share of it (promotion → that 200).
 */
@Tag("drill")
@ExtendWith(VertxExtension.class)
class WebhookFailoverTest {

  /**
   * Nodes this class killed come back before the next class starts: healing (a restarted master rejoining as a replica
   * and syncing) took longer than a test's 30-s limit once, in whichever test asked for the cluster next.
   */
  @org.junit.jupiter.api.AfterAll
  static void healTheSharedCluster() {
    TestCluster.get();
  }

  private static final Logger LOG = LoggerFactory.getLogger(WebhookFailoverTest.class);
  private static final int SENDERS = 8;
  /** Deliveries answered 200 after the kill before the senders stop... */
  private static final int ACCEPTED_AFTER_KILL = 100;
  /** ... of which this many touch the dead master's slots (so they are served again). */
  private static final int DEAD_SLOTS_ACCEPTED_AFTER_KILL = 20;
  private static final Shards SHARDS = Sharded.SHARDS;
  private static final long BACK_WITHIN_MS = 6_000;

  private Harness h;
  private final Set<String> accepted = ConcurrentHashMap.newKeySet();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicInteger sequence = new AtomicInteger();
  private final AtomicLong killedAt = new AtomicLong();
  private final AtomicInteger acceptedAfterKill = new AtomicInteger();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicLong promotedAt = new AtomicLong();
  private final AtomicLong firstDeadSlotsAcceptedAfterKill = new AtomicLong();
  private final AtomicInteger deadSlotsAcceptedAfterKill = new AtomicInteger();
  /** Deliveries sent after the kill whose keys all live on surviving masters: answered 200, refused. */
  private final AtomicInteger liveAccepted = new AtomicInteger();
  private final AtomicInteger liveAcceptedBeforePromotion = new AtomicInteger();
  private final List<String> liveRefusals = java.util.Collections.synchronizedList(new ArrayList<>());
  /** The dead master's slots, as they were before the kill. */
  private volatile IntPredicate deadSlots = slot -> false;
  /** Error code of each kind of refusal → ms after the kill of the last one. */
  private final Map<String, Long> refusals = new ConcurrentHashMap<>();

  @AfterEach
  void stop(VertxTestContext ctx) {
    stop.set(true);
    h.close().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 180, timeUnit = TimeUnit.SECONDS)
  void noDeliveryAnswered200IsLostWhenTheEventsMasterDiesAndWebhooksAreAcceptedAgainAfterIt(Vertx vertx, VertxTestContext ctx) {
    TestCluster cluster = TestCluster.get();
    h = new Harness(vertx);
    // The promoted master is trusted alone at once: this drill times the client's failover, and the killed master
    // stays dead, so the default hold (webhooks.replicaLossHoldMs, 30 s: ReplicaLossHoldTest) would only add itself.
    JsonObject cfg = Deliveries.config().put("webhooks", Deliveries.webhooks().put("replicaLossHoldMs", 0));
    h.start(Topology.CLUSTER).compose(x -> h.gateway(cfg))
      .compose(g -> h.eventually(() -> h.get(g, "/health/ready").map(r -> r.statusCode() == 200), 15_000).map(g))
      .compose(g -> {
        Promise<Void> senders = Promise.promise();
        AtomicInteger running = new AtomicInteger(SENDERS);
        for (int i = 0; i < SENDERS; i++) {
          send(g).onComplete(ar -> {
            if (running.decrementAndGet() == 0) {
              senders.complete();
            }
          });
        }
        // Some deliveries land before the kill, then the master of the events stream's slot dies mid-flow.
        Future<Void> killed = h.eventually(() -> Future.succeededFuture(accepted.size() >= 50), 15_000)
          .compose(v -> vertx.executeBlocking(() -> {
            deadSlots = cluster.slotsOf(cluster.masterOf(RedisKeys.eventsShard(0)));
            killedAt.set(System.nanoTime());
            cluster.killMasterAndAwaitFailover(RedisKeys.eventsShard(0));
            promotedAt.set(System.nanoTime());
            return null;
          }));
        return killed.compose(v -> senders.future()).map(g);
      })
      .compose(g -> h.eventually(() -> allHandled(g), 60_000).map(g))
      .onComplete(ctx.succeeding(g -> ctx.verify(() -> {
        long failoverMs = (promotedAt.get() - killedAt.get()) / 1_000_000;
        long backMs = (firstDeadSlotsAcceptedAfterKill.get() - killedAt.get()) / 1_000_000;
        long clientMs = (firstDeadSlotsAcceptedAfterKill.get() - promotedAt.get()) / 1_000_000;
        LOG.info("webhook failover: {} deliveries answered 200 ({} after the kill), {} refused with 503, lost 0; cluster "
            + "failover (kill -> replica serves on every node) {} ms; first 200 touching the dead master's slots {} ms "
            + "after the kill, {} ms after the promotion; deliveries on live masters after the kill: {} answered 200 "
            + "({} before the promotion), {} refused; refusals (code=last ms after the kill) {}", accepted.size(),
          acceptedAfterKill.get(), refused.get(), failoverMs, backMs, clientMs, liveAccepted.get(),
          liveAcceptedBeforePromotion.get(), liveRefusals.size(), refusals);
        assertEquals(List.of(), liveRefusals, "deliveries whose keys live on surviving masters are never refused");
        assertTrue(liveAcceptedBeforePromotion.get() > 0, "deliveries on live masters were answered while one was dead");
        // The bound, from the algorithms involved: with cluster-node-timeout T = 1 s the replica is promoted
        // after failure detection (T, plus gossip of the failure reports) and its election delay (500 ms + up to
        // 500 ms random for the only replica): ~2.5 s, 3.5 s at worst; the client finds it at its next topology
        // read (at most 250 ms later while the dead master's slots fail). A delivery whose shard moved there may
        // still wait replicaWaitMs (1 s) for a replica the promoted master does not have before the replica watch
        // re-samples that shard: ~5 s at worst. Of the 6 runs behind docs/scaling.md five took 2.6-2.7 s, one 4.6 s.
        assertTrue(backMs <= BACK_WITHIN_MS, "first 200 touching the dead master's slots " + backMs + " ms after the kill");
        assertTrue(deadSlotsAcceptedAfterKill.get() >= DEAD_SLOTS_ACCEPTED_AFTER_KILL,
          "deliveries touching the dead master's slots are accepted again after the failover");
        ctx.completeNow();
      })));
  }

  /** One sender: a new delivery after each answer, until enough were accepted after the kill. */
  private Future<Void> send(Gateway g) {
    if (stop.get() || (acceptedAfterKill.get() >= ACCEPTED_AFTER_KILL
      && deadSlotsAcceptedAfterKill.get() >= DEAD_SLOTS_ACCEPTED_AFTER_KILL)) {
      return Future.succeededFuture();
    }
    String id = "fo-" + sequence.incrementAndGet();
    Buffer body = Deliveries.linktreeEvent("link.reordered", new JsonObject().put("link_id", id));
    long sentAt = System.nanoTime();
    long killed = killedAt.get();
    boolean afterKill = killed != 0 && sentAt > killed;
    boolean touchesDead = touchesDeadMaster(id, body);
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, body), body)
      .transform(ar -> {
        HttpResponse<Buffer> r = ar.succeeded() ? ar.result() : null;
        if (r != null && r.statusCode() == 200) {
          assertTrue(r.bodyAsJsonObject().getBoolean("received", false), r.bodyAsString());
          accepted.add(id);
          if (afterKill) {
            acceptedAfterKill.incrementAndGet();
            if (touchesDead) {
              firstDeadSlotsAcceptedAfterKill.compareAndSet(0, System.nanoTime());
              deadSlotsAcceptedAfterKill.incrementAndGet();
            } else {
              liveAccepted.incrementAndGet();
              if (promotedAt.get() == 0) {
                liveAcceptedBeforePromotion.incrementAndGet();
              }
            }
          }
        } else {
          // Anything else must be a retryable refusal, never a silent loss: the provider would retry it.
          if (r != null) {
            assertEquals(503, r.statusCode(), r.bodyAsString());
          }
          refused.incrementAndGet();
          String code = r == null ? "no answer" : r.bodyAsJsonObject().getString("error");
          long since = killed == 0 ? -1 : (System.nanoTime() - killed) / 1_000_000;
          refusals.put(code, since);
          if (afterKill && !touchesDead) {
            liveRefusals.add(id + " (" + code + ", " + since + " ms after the kill)");
          }
        }
        return send(g);
      });
  }

  /** Whether the delivery's route or its shard sits in a slot the dead master served before the kill. */
  private boolean touchesDeadMaster(String id, Buffer body) {
    int shard = Deliveries.linktreeShard(body, SHARDS);
    return deadSlots.test(ZModem.generate(RedisKeys.webhookRoute("linktree", id)))
      || deadSlots.test(ZModem.generate(RedisKeys.eventsShard(shard)));
  }

  /**
   * Every delivery answered 200 has the outcome {@code handled} in its history. Looked up {@value #LOOKUPS_AT_ONCE}
   * at a time: each lookup reads every shard, and hundreds at once would only measure the admin API's queueing.
   */
  private Future<Boolean> allHandled(Gateway g) {
    List<String> ids = new ArrayList<>(accepted);
    return lookUp(g, ids, 0, new AtomicInteger()).map(missing -> {
      if (missing > 0) {
        LOG.info("{} of {} accepted deliveries not processed yet", missing, ids.size());
      }
      return missing == 0;
    });
  }

  private static final int LOOKUPS_AT_ONCE = 16;

  private Future<Integer> lookUp(Gateway g, List<String> ids, int from, AtomicInteger missing) {
    if (from >= ids.size()) {
      return Future.succeededFuture(missing.get());
    }
    List<Future<Boolean>> checks = new ArrayList<>();
    for (String id : ids.subList(from, Math.min(ids.size(), from + LOOKUPS_AT_ONCE))) {
      checks.add(h.http.get(g.managementPort(), "127.0.0.1", "/admin/deliveries/" + id)
        .bearerTokenAuthentication(Deliveries.ADMIN_TOKEN).send()
        // link.reordered has no handler and no destination subscribes: once processed, its history says skipped.
        .map(r -> r.statusCode() == 200 && "skipped".equals(r.bodyAsJsonObject().getString("outcome")))
        .otherwise(false)
        .onSuccess(ok -> {
          if (!ok) {
            missing.incrementAndGet();
          }
        }));
    }
    return Future.join(checks).transform(ar -> lookUp(g, ids, from + LOOKUPS_AT_ONCE, missing));
  }
}
