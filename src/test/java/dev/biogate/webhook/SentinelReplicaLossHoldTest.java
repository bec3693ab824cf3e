package dev.biogate.webhook;

import dev.biogate.Gateway;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.Resp;
import dev.biogate.support.Sharded;
import dev.biogate.support.TestSentinel;
import dev.biogate.support.UnstartedHarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An instance started after the master lost its replica holds as well ({@code webhooks.replicaLossHoldMs}): it never
 * saw the replica, but the Sentinels still know it. Before, a fresh instance trusted such a master alone at once
 * while the instances that had seen the replica refused.
 */
class SentinelReplicaLossHoldTest extends UnstartedHarnessTest {

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  void anInstanceStartedAfterTheReplicaDiedRefusesUntilItIsBack(Vertx vertx, VertxTestContext ctx) {
    TestSentinel group = TestSentinel.get();
    Buffer body = Deliveries.linktreeEvent("link.deleted", new JsonObject().put("link_id", "late-1").put("username", "nobody"));
    int shard = Sharded.SHARDS.ofDigestHex(Envelopes.contentDigest("linktree", body));
    vertx.executeBlocking(() -> {
        RedisProcess master = group.master();
        group.replica().kill();
        RedisProcess.await("the master has no replica", 10_000,
          () -> "0".equals(Resp.info(master.port(), "replication", "connected_slaves")));
        return group.redisConfig();
      })
      .compose(redis -> h.startOn(redis))
      .compose(x -> h.gateway(Deliveries.config().put("webhooks", Deliveries.webhooks().put("replicaWaitMs", 500))))
      .compose(g -> h.eventually(() -> h.get(g, "/health/ready").map(r -> r.statusCode() == 200), 15_000)
        // Sampled, and confirmed by the Sentinels (a majority answers, all name the master).
        .compose(v -> h.eventually(() -> Future.succeededFuture(g.replicas().unconfirmedShards() == 0
          && (!g.replicas().waitForReplica(shard) || g.replicas().cannotMakeDurable(shard))), 15_000))
        .compose(v -> post(g, "late-1", body))
        .compose(refused -> {
          assertEquals(503, refused.statusCode(), refused.bodyAsString());
          assertEquals("not_replicated", refused.bodyAsJsonObject().getString("error"));
          return vertx.executeBlocking(() -> {
            group.settle();
            return null;
          });
        })
        .compose(v -> h.eventually(() -> post(g, "late-1", body).map(r -> r.statusCode() == 200), 30_000)))
      .onComplete(ar -> vertx.executeBlocking(() -> {
        group.settle();
        return null;
      }).onComplete(settled -> ctx.verify(() -> {
        assertEquals(true, ar.succeeded(), String.valueOf(ar.cause()));
        ctx.completeNow();
      })));
  }

  private Future<HttpResponse<Buffer>> post(Gateway g, String id, Buffer body) {
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, body), body);
  }
}
