package dev.biogate.cluster;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.Harness;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.Sharded;
import dev.biogate.support.TestCluster;
import dev.biogate.support.Topology;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * On a Cluster a delivery's id is pinned to its shard by a route key in the id's own slot, often on another master
 * than the shard's. That pin is part of what makes a retry under the same id with a re-stamped body a duplicate, so it
 * must be as durable as the delivery: written on a master whose replica does not acknowledge it, the delivery is
 * refused ({@code 503 not_replicated}), as it would be on its shard's master. Pinned there alone, it was lost with that
 * master in a second fault, and such retries were queued and handled again (a drill: 62 of 2,001). Here the replica of
 * the route's master is frozen ({@code SIGSTOP}), so no write there is acknowledged by it, while the shard's master is
 * healthy.
 */
@ExtendWith(VertxExtension.class)
class RoutePinDurabilityTest {

  private Harness h;
  private final AtomicInteger sequence = new AtomicInteger();

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aDeliveryWhoseRouteCannotBeMadeDurableIsRefused(Vertx vertx, VertxTestContext ctx) {
    TestCluster cluster = TestCluster.get();
    RedisProcess routeMaster = cluster.masterOf(RedisKeys.eventsShard(0));
    RedisProcess frozen = cluster.replicaOf(RedisKeys.eventsShard(0));
    h = new Harness(vertx);
    h.start(Topology.CLUSTER)
      .compose(x -> h.gateway(Deliveries.config()))
      .compose(g -> h.eventually(() -> h.get(g, "/health/ready").map(r -> r.statusCode() == 200), 15_000).map(g))
      .compose(g -> h.eventually(() -> deliver(g, cluster, routeMaster).map(status -> status == 200), 15_000).map(g))
      .compose(g -> vertx.executeBlocking(() -> {
        frozen.pause();
        return g;
      }))
      .compose(g -> deliver(g, cluster, routeMaster).compose(whileFrozen -> vertx.executeBlocking(() -> {
        frozen.resume();
        return whileFrozen;
      })).compose(whileFrozen -> h.eventually(() -> deliver(g, cluster, routeMaster).map(status -> status == 200), 15_000)
        .map(whileFrozen)))
      .onComplete(ar -> {
        frozen.resume();
        ctx.verify(() -> {
          assertEquals(503, ar.succeeded() ? ar.result() : -1,
            "a delivery whose route pin no replica acknowledged: " + (ar.failed() ? ar.cause() : ""));
          ctx.completeNow();
        });
      });
  }

  /**
   * Sends a fresh delivery whose id's route lives on {@code routeMaster} and whose shard lives on another master; its
   * status.
   */
  private Future<Integer> deliver(Gateway g, TestCluster cluster, RedisProcess routeMaster) {
    while (true) {
      String id = "pin-" + sequence.incrementAndGet();
      Buffer body = Deliveries.linktreeEvent("link.reordered", new JsonObject().put("link_id", id));
      int shard = Deliveries.linktreeShard(body, Sharded.SHARDS);
      if (cluster.masterOf(RedisKeys.webhookRoute("linktree", id)).equals(routeMaster)
        && !cluster.masterOf(RedisKeys.eventsShard(shard)).equals(routeMaster)) {
        return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, body), body).map(r -> r.statusCode());
      }
    }
  }
}
