package dev.biogate.redis;

import dev.biogate.config.RedisConfig;
import dev.biogate.redis.RedisClients;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.Eventually;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.Sharded;
import dev.biogate.support.TestCluster;
import dev.biogate.support.Topology;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Redis;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * In {@code auto} mode the replica wait follows the master that holds each shard's events stream. On Cluster a
 * keyless {@code INFO} lands on any master: every sample must still see the shard's master and its replica, else a
 * delivery could be answered 200 before any replica holds it; and a master losing its replica changes only its own
 * shards.
 */
@ExtendWith(VertxExtension.class)
class ReplicaWatchTopologyTest {

  /**
   * The masters that lost their replica are trusted alone at once here, so that the test sees which shards stop
   * waiting; the hold before that ({@code webhooks.replicaLossHoldMs}) is {@code ReplicaLossHoldTest}'s.
   */
  private static final long NO_HOLD = 0;

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = Topology.class, names = {"CLUSTER", "SENTINEL"})
  void everySampleSeesTheReplicaOfTheEventsStreamsMaster(Topology topology, Vertx vertx, VertxTestContext ctx) throws Exception {
    Redis redis = RedisClients.create(vertx, new RedisConfig(vertx.executeBlocking(topology::redisConfig)
      .toCompletionStage().toCompletableFuture().get()));
    ReplicaWatch watch = new ReplicaWatch(vertx, redis, "auto", Sharded.SHARDS.count());
    List<Boolean> samples = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < 12; i++) {
      chain = chain.compose(v -> watch.sample()).map(v -> {
        for (int shard = 0; shard < Sharded.SHARDS.count(); shard++) {
          samples.add(watch.waitForReplica(shard));
        }
        return null;
      });
    }
    chain.eventually(redis::close).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertEquals(12 * Sharded.SHARDS.count(), samples.stream().filter(b -> b).count(), "samples that saw a replica: " + samples);
      ctx.completeNow();
    })));
  }

  @Test
  void onlyTheShardsOfAMasterThatLostItsReplicaStopWaiting(Vertx vertx, VertxTestContext ctx) throws Exception {
    TestCluster cluster = TestCluster.get();
    int shards = Sharded.SHARDS.count();
    RedisProcess shard0Master = cluster.masterOf(RedisKeys.eventsShard(0));
    RedisProcess lonely = cluster.masters().stream().filter(m -> !m.equals(shard0Master)).findFirst().orElseThrow();
    Set<Integer> lonelyShards = IntStream.range(0, shards).boxed()
      .filter(s -> cluster.masterOf(RedisKeys.eventsShard(s)).equals(lonely)).collect(Collectors.toSet());
    RedisProcess replica = cluster.replicaOf(RedisKeys.eventsShard(lonelyShards.iterator().next()));
    Redis redis = RedisClients.create(vertx, new RedisConfig(cluster.redisConfig()));
    ReplicaWatch watch = new ReplicaWatch(vertx, redis, "auto", shards, null, List.of(), NO_HOLD);
    seenReplicatedThenKill(vertx, watch, shards, replica)
      .compose(v -> Eventually.until(vertx, () -> watch.sample().map(x -> lonelyShards.stream().noneMatch(watch::waitForReplica)),
        15_000, "the shards of the master without a replica no longer wait"))
      .eventually(redis::close)
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        IntStream.range(0, shards).filter(s -> !lonelyShards.contains(s)).forEach(s ->
          assertTrue(watch.waitForReplica(s), "shard " + s + " still waits for its master's replica"));
        ctx.completeNow();
      })));
  }

  /** Waits until {@code watch} has seen every shard's master with its replica, then kills {@code replica}. */
  private static Future<Void> seenReplicatedThenKill(Vertx vertx, ReplicaWatch watch, int shards, RedisProcess replica) {
    return Eventually.until(vertx, () -> watch.sample().map(v -> IntStream.range(0, shards).allMatch(watch::waitForReplica)),
        15_000, "every shard's master seen with its replica")
      .compose(v -> vertx.executeBlocking(() -> {
        replica.kill();
        return null;
      }));
  }

  /**
   * A change seen on one shard is looked for on every shard at once. Found in a drill: after a failover the shards of
   * the promoted master learned that it had no replica one by one, each when a delivery of its own had waited the whole
   * {@code replicaWaitMs} for nothing (or at the next periodic sample), so deliveries kept being held a second and
   * answered 503 after the watch had already said so for another shard. No periodic sample runs here: only the miss on
   * one shard, and what it sets off, can move the others.
   */
  @Test
  void aMissOnOneShardMovesEveryShardOfThatMaster(Vertx vertx, VertxTestContext ctx) throws Exception {
    TestCluster cluster = TestCluster.get();
    int shards = Sharded.SHARDS.count();
    RedisProcess lonely = cluster.masters().get(0);
    Set<Integer> lonelyShards = IntStream.range(0, shards).boxed()
      .filter(s -> cluster.masterOf(RedisKeys.eventsShard(s)).equals(lonely)).collect(Collectors.toSet());
    assertTrue(lonelyShards.size() >= 2, "the test needs a master holding two shards or more: " + lonelyShards);
    int missed = lonelyShards.iterator().next();
    RedisProcess replica = cluster.replicaOf(RedisKeys.eventsShard(missed));
    Redis redis = RedisClients.create(vertx, new RedisConfig(cluster.redisConfig()));
    ReplicaWatch watch = new ReplicaWatch(vertx, redis, "auto", shards, null, List.of(), NO_HOLD);
    seenReplicatedThenKill(vertx, watch, shards, replica)
      .compose(v -> Eventually.until(vertx, () -> {
        watch.missed(missed, 0, 1);
        return Future.succeededFuture(!watch.waitForReplica(missed));
      }, 15_000, "the missed shard no longer waits"))
      .compose(v -> Eventually.until(vertx, () -> Future.succeededFuture(lonelyShards.stream().noneMatch(watch::waitForReplica)),
        10_000, "every shard of that master no longer waits, none of them having missed"))
      .eventually(redis::close)
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        IntStream.range(0, shards).filter(s -> !lonelyShards.contains(s)).forEach(s ->
          assertTrue(watch.waitForReplica(s), "shard " + s + " still waits for its master's replica"));
        ctx.completeNow();
      })));
  }
}
