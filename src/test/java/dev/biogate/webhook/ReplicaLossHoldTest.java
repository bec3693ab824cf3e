package dev.biogate.webhook;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.ReplicatedHarnessTest;
import dev.biogate.support.Sharded;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Under {@code replicaWait=auto}, a master that had a replica in sync and has none now (its replica died or is
 * resyncing, or it is a replica just promoted) no longer acknowledges deliveries alone at once: they are answered
 * {@code 503 not_replicated} (providers retry) until a replica is in sync again, or for at most
 * {@code webhooks.replicaLossHoldMs}. Found in a Sentinel drill: two failovers 14 s apart and then a kill of the
 * master lost 238 of 839 deliveries answered 200, each acknowledged by a promoted master whose only replica had not
 * finished its resync, and lost with that master.
 */
class ReplicaLossHoldTest extends ReplicatedHarnessTest {

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  void aMasterThatLostItsReplicaRefusesDeliveriesUntilOneIsInSyncAgain(VertxTestContext ctx) {
    Buffer refusedBody = Deliveries.linktreeEvent("link.deleted", new JsonObject().put("link_id", "hold-1").put("username", "nobody"));
    int shard = shard(refusedBody);
    startReplicated()
      .compose(v -> h.gateway(Deliveries.config().put("webhooks", Deliveries.webhooks().put("replicaWaitMs", 500))))
      .compose(g -> h.eventually(() -> Future.succeededFuture(g.replicas().waitForReplica(shard)), 10_000)
        .compose(v -> post(g, "hold-0", Deliveries.linktreeEvent("link.deleted",
          new JsonObject().put("link_id", "hold-0").put("username", "nobody"))))
        .compose(before -> {
          assertEquals(200, before.statusCode(), before.bodyAsString());
          return redis.replica().send(Request.cmd(Command.REPLICAOF).arg("NO").arg("ONE"));
        })
        // Until the gateway has sampled the master without its replica (every 2 s, or at once after a wait in vain).
        .compose(v -> h.eventually(() -> Future.succeededFuture(!g.replicas().waitForReplica(shard)
          || g.replicas().cannotMakeDurable(shard)), 15_000))
        .compose(v -> post(g, "hold-1", refusedBody))
        .compose(refused -> h.redis(Request.cmd(Command.EXISTS)
            .arg(RedisKeys.webhookDedupe(shard, "linktree", "id", "hold-1")))
          .map(written -> {
            assertEquals(503, refused.statusCode(), refused.bodyAsString());
            assertEquals("not_replicated", refused.bodyAsJsonObject().getString("error"));
            assertTrue(refused.getHeader("Retry-After") != null, "Retry-After");
            assertEquals(0, written.toInteger(), "nothing written on a master that cannot make it durable");
            return null;
          }))
        .compose(v -> h.get(g, "/health"))
        .compose(health -> {
          JsonObject redisState = health.bodyAsJsonObject().getJsonObject("services").getJsonObject("redis");
          assertEquals("degraded", redisState.getString("status"), redisState.encode());
          assertEquals(Sharded.SHARDS.count(), redisState.getInteger("awaitingReplicaShards", 0), redisState.encode());
          URI master = URI.create(redis.masterUrl());
          return redis.replica().send(Request.cmd(Command.REPLICAOF).arg(master.getHost()).arg(master.getPort()));
        })
        // The provider's retry is accepted once the replica is in sync again: the hold (30 s by default) ends with it.
        .compose(v -> h.eventually(() -> post(g, "hold-1", refusedBody).map(r -> r.statusCode() == 200), 25_000))
        .map(v -> {
          assertTrue(g.replicas().waitForReplica(shard) && !g.replicas().cannotMakeDurable(shard),
            "accepted with a replica in sync, not alone");
          return null;
        }))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  void afterTheHoldTheMasterAcknowledgesAlone(VertxTestContext ctx) {
    Buffer body = Deliveries.linktreeEvent("link.deleted", new JsonObject().put("link_id", "hold-2").put("username", "nobody"));
    int shard = shard(body);
    startReplicated()
      .compose(v -> h.gateway(Deliveries.config().put("webhooks", Deliveries.webhooks().put("replicaWaitMs", 500)
        .put("replicaLossHoldMs", 1_000))))
      .compose(g -> h.eventually(() -> Future.succeededFuture(g.replicas().waitForReplica(shard)), 10_000)
        .compose(v -> redis.replica().send(Request.cmd(Command.REPLICAOF).arg("NO").arg("ONE")))
        // The replica stays away: after its second the master is trusted alone, as a deployment that lost a replica
        // for good must go on taking deliveries (and /health says which shards stand on one copy).
        .compose(v -> h.eventually(() -> post(g, "hold-2", body).map(r -> r.statusCode() == 200), 20_000))
        // Each shard's hold ends at its own next sample (every 2 s): then all of them stand on the master alone.
        .compose(v -> h.eventually(() -> h.get(g, "/health").map(health -> {
          JsonObject redisState = health.bodyAsJsonObject().getJsonObject("services").getJsonObject("redis");
          return redisState.getInteger("shardsWithoutReplica", 0) == Sharded.SHARDS.count()
            && !redisState.containsKey("awaitingReplicaShards");
        }), 15_000)))
      .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * An instance started after the loss never saw the replica, and the promoted replica it is pointed at lists none:
   * it held nothing, and its deliveries were acknowledged alone at once (a Cluster drill: a gateway started after a
   * failover, then a second fault, lost 75 of 450 it had answered 200). A promoted replica says so itself
   * ({@code second_repl_offset}); the instance holds, and once trusted alone reports the shards as without replica.
   */
  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  void anInstanceStartedOnAPromotedReplicaHoldsToo(VertxTestContext ctx) {
    Buffer body = Deliveries.linktreeEvent("link.deleted", new JsonObject().put("link_id", "hold-3").put("username", "nobody"));
    int shard = shard(body);
    JsonObject promoted = new JsonObject();
    startReplicated()
      .compose(v -> redis.replica().send(Request.cmd(Command.REPLICAOF).arg("NO").arg("ONE")))
      .compose(v -> {
        promoted.put("type", "standalone").put("url", redis.replicaUrl());
        return h.gateway(Deliveries.config().put("redis", promoted)
          .put("webhooks", Deliveries.webhooks().put("replicaWaitMs", 500)));
      })
      .compose(g -> h.eventually(() -> Future.succeededFuture(!g.replicas().waitForReplica(shard)
          || g.replicas().cannotMakeDurable(shard)), 15_000)
        .compose(v -> post(g, "hold-3", body))
        .map(r -> {
          assertEquals(503, r.statusCode(), r.bodyAsString());
          assertEquals("not_replicated", r.bodyAsJsonObject().getString("error"));
          return null;
        }))
      // Another, whose hold is short: past it, /health names the shards that stand on one copy.
      .compose(v -> h.gateway(Deliveries.config().put("redis", promoted)
        .put("webhooks", Deliveries.webhooks().put("replicaLossHoldMs", 1_000))))
      .compose(g -> h.eventually(() -> h.get(g, "/health").map(health -> health.bodyAsJsonObject().getJsonObject("services")
        .getJsonObject("redis").getInteger("shardsWithoutReplica", 0) == Sharded.SHARDS.count()), 15_000))
      .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * The first delivery an instance answers is already judged by its masters' replicas: the port used to open before
   * the first look at them, and until then every shard counted as having no replica to wait for. A re-drill restarted
   * an instance beside a promoted master alone: 8 deliveries it answered 200 in that moment were lost with that master
   * (their route pins), and accepted again when re-sent. Here deliveries are sent while the instance starts, on a
   * promoted replica that is held.
   */
  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  void theFirstDeliveryAnInstanceAnswersIsHeldToo(io.vertx.core.Vertx vertx, VertxTestContext ctx) throws Exception {
    Buffer body = Deliveries.linktreeEvent("link.deleted", new JsonObject().put("link_id", "hold-4").put("username", "nobody"));
    // Below the ephemeral range: knocking every 2 ms on a port in it, a connection of the knocks' own once took that
    // very port as its local one (a TCP self-connect), and the gateway's bind failed with "Address already in use".
    int port = dev.biogate.redis.LoopbackPorts.free(0);
    JsonObject promoted = new JsonObject();
    io.vertx.core.Promise<HttpResponse<Buffer>> first = io.vertx.core.Promise.promise();
    startReplicated()
      .compose(v -> redis.replica().send(Request.cmd(Command.REPLICAOF).arg("NO").arg("ONE")))
      .compose(v -> {
        promoted.put("type", "standalone").put("url", redis.replicaUrl());
        knock(vertx, port, body, first);
        return h.gateway(Deliveries.config().put("redis", promoted).put("http", new JsonObject().put("port", port))
          .put("webhooks", Deliveries.webhooks().put("replicaWaitMs", 500)));
      })
      .compose(g -> first.future())
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals(503, r.statusCode(), "the first delivery answered: " + r.bodyAsString());
        ctx.completeNow();
      })));
  }

  /** Posts {@code body} to {@code port} every 2 ms until it is answered; that answer completes {@code first}. */
  private void knock(io.vertx.core.Vertx vertx, int port, Buffer body, io.vertx.core.Promise<HttpResponse<Buffer>> first) {
    h.http.post(port, "127.0.0.1", "/webhooks/linktree").putHeaders(Deliveries.linktree("hold-4", body)).sendBuffer(body)
      .onComplete(ar -> {
        if (ar.succeeded()) {
          first.tryComplete(ar.result());
        } else if (!first.future().isComplete()) {
          vertx.setTimer(2, t -> knock(vertx, port, body, first));
        }
      });
  }

  private static int shard(Buffer body) {
    return Sharded.SHARDS.ofDigestHex(Envelopes.contentDigest("linktree", body));
  }

  private Future<HttpResponse<Buffer>> post(Gateway g, String id, Buffer body) {
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, body), body);
  }
}
