package dev.biogate.webhook;

import dev.biogate.support.ReplicatedHarnessTest;
import dev.biogate.support.Sharded;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A master that had a replica and has none now (a promoted replica before the old master rejoins, a replica that
 * died) acknowledges deliveries once it alone holds them, after {@code webhooks.replicaLossHoldMs} (here 1 s; see
 * {@link ReplicaLossHoldTest}). Found in a Cluster drill: after a failover the
 * promoted master ran 53-64 s without a replica, deliveries answered 200 with one copy, while /health said healthy and
 * no metric showed it. /health now names the number of such shards and a gauge counts them; the status stays what it
 * is, since everything is still served.
 */
class ShardsWithoutReplicaTest extends ReplicatedHarnessTest {

  private static final String GAUGE = "biogate_redis_shards_without_replica ";

  @Test
  void shardsWhoseMasterLostItsReplicaAreReported(VertxTestContext ctx) {
    startReplicated()
      .compose(v -> h.gateway(Deliveries.config().put("webhooks", Deliveries.webhooks().put("replicaWaitMs", 500)
        .put("replicaLossHoldMs", 1_000))))
      .compose(g -> h.eventually(() -> Future.succeededFuture(g.replicas().waitForReplica(0)), 10_000)
        .compose(v -> h.get(g, "/health"))
        .compose(before -> {
          JsonObject redisState = before.bodyAsJsonObject().getJsonObject("services").getJsonObject("redis");
          assertFalse(redisState.containsKey("shardsWithoutReplica"), before.bodyAsString());
          return redis.replica().send(Request.cmd(Command.REPLICAOF).arg("NO").arg("ONE"));
        })
        .compose(v -> h.eventually(() -> h.get(g, "/health").map(r -> r.bodyAsJsonObject().getJsonObject("services")
          .getJsonObject("redis").getInteger("shardsWithoutReplica", 0) == Sharded.SHARDS.count()), 15_000))
        .compose(v -> h.get(g, "/health").compose(health -> h.get(g, "/metrics").map(metrics -> {
          JsonObject body = health.bodyAsJsonObject();
          assertEquals("healthy", body.getJsonObject("services").getJsonObject("redis").getString("status"), body.encode());
          assertTrue(metrics.bodyAsString().contains(GAUGE + Sharded.SHARDS.count() + ".0"),
            "the gauge counts them: " + metrics.bodyAsString().lines().filter(l -> l.startsWith(GAUGE)).toList());
          return null;
        }))))
      .onComplete(ctx.succeedingThenComplete());
  }
}
