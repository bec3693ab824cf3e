package dev.biogate.webhook;

import dev.biogate.config.RedisConfig;
import dev.biogate.redis.RedisClients;
import dev.biogate.support.Topology;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Redis;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * In {@code auto} mode the replica wait follows the master that holds the events stream. On Cluster a keyless
 * {@code INFO} lands on any node, replicas included (which report no replica of their own): every sample must still
 * see the events master and its replica, else a delivery could be answered 200 before any replica holds it.
 */
@ExtendWith(VertxExtension.class)
class ReplicaWatchTopologyTest {

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = Topology.class, names = {"CLUSTER", "SENTINEL"})
  void everySampleSeesTheReplicaOfTheEventsStreamsMaster(Topology topology, Vertx vertx, VertxTestContext ctx) throws Exception {
    Redis redis = RedisClients.create(vertx, new RedisConfig(vertx.executeBlocking(topology::redisConfig)
      .toCompletionStage().toCompletableFuture().get()));
    ReplicaWatch watch = new ReplicaWatch(vertx, redis, "auto");
    List<Boolean> samples = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < 12; i++) {
      chain = chain.compose(v -> watch.sample()).map(v -> {
        samples.add(watch.waitForReplica());
        return null;
      });
    }
    chain.eventually(redis::close).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertEquals(12, samples.stream().filter(b -> b).count(), "samples that saw a replica: " + samples);
      ctx.completeNow();
    })));
  }
}
