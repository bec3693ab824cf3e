package dev.biogate.redis;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Redis;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.ServerSocket;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A shard whose master could not be sampled yet is not taken for one without a replica: its writes wait for one. A
 * re-drill restarted an instance while a master was dead; its first look at that master failed, the shards stayed
 * "no replica, nothing to wait for", and once the replica was promoted the instance acknowledged deliveries on it alone
 * until its next look (0.4-1.6 s): 2-63 of 2,001 were accepted again when re-sent. Here the master is unreachable.
 */
@ExtendWith(VertxExtension.class)
class ReplicaWatchUnsampledTest {

  private static final int SHARDS = 16;

  @Test
  void aShardNotSampledYetWaitsForAReplica(Vertx vertx, VertxTestContext ctx) throws Exception {
    int closed;
    try (ServerSocket free = new ServerSocket(0)) {
      closed = free.getLocalPort();
    }
    Redis redis = Redis.createClient(vertx, "redis://127.0.0.1:" + closed);
    ReplicaWatch watch = new ReplicaWatch(vertx, redis, "auto", SHARDS, null, List.of(), 30_000);
    watch.start().onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      watch.stop();
      redis.close();
      assertTrue(IntStream.range(0, SHARDS).allMatch(watch::waitForReplica), "every shard waits for a replica");
      assertEquals(1, watch.replicasToWait(0), "one replica, until a look says how many its master has");
      assertEquals(0, watch.unconfirmedShards() + watch.awaitingReplicaShards(), "nothing refused: the write waits instead");
      ctx.completeNow();
    })));
  }
}
