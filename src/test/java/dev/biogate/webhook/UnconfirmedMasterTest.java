package dev.biogate.webhook;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.Resp;
import dev.biogate.support.Sharded;
import dev.biogate.support.TestSentinel;
import dev.biogate.support.Topology;
import dev.biogate.support.UnstartedHarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Under Sentinel, a master with no replica online that the Sentinels do not confirm (as during a failover, until they
 * all name the promoted replica) cannot make a delivery durable: it is refused with a retryable 503 at once, without
 * being written there. It used to be written and then held for the whole replica wait (a pooled connection blocked in
 * {@code WAIT} per delivery) before the same 503: under a storm those waits took every pooled connection, and the
 * deliveries queued behind them for one ran past their deadline.
 */
class UnconfirmedMasterTest extends UnstartedHarnessTest {

  @Test
  @SuppressWarnings("unchecked")
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  void aDeliveryIsRefusedWithoutBeingWrittenWhileTheMasterIsUnconfirmed(Vertx vertx, VertxTestContext ctx) {
    TestSentinel group = TestSentinel.get();
    RedisProcess master = group.master();
    // One Sentinel of three answers (the data connections find the master through it): never a majority to confirm.
    JsonObject redis = new JsonObject().put("endpoints", new JsonArray().add(group.sentinels().get(0).url())
      .add("redis://127.0.0.1:1").add("redis://127.0.0.1:2"));
    Buffer body = Deliveries.linktreeEvent("link.deleted", new JsonObject().put("link_id", "unconfirmed-1").put("username", "nobody"));
    h.start(Topology.SENTINEL)
      .compose(x -> h.gateway(Deliveries.config().put("redis", redis)
        .put("webhooks", Deliveries.webhooks().put("replicaWaitMs", 500))))
      .compose(g -> h.eventually(() -> h.get(g, "/health/ready").map(r -> r.statusCode() == 200), 15_000)
        .compose(ready -> vertx.executeBlocking(() -> {
          group.replica().kill();
          RedisProcess.await("the master has no replica", 10_000,
            () -> "0".equals(Resp.info(master.port(), "replication", "connected_slaves")));
          return null;
        }))
        // Until the gateway has sampled the delivery's shard alone and unconfirmed (every 2 s).
        .compose(v -> h.eventually(() -> Future.succeededFuture(g.replicas().cannotMakeDurable(shard(body))), 15_000))
        .compose(v -> post(g, "unconfirmed-1", body))
        // A click meanwhile is redirected; its batch goes to the journal, not to a stream on that master.
        .compose(r -> h.http.get(g.port(), "127.0.0.1", "/r/demo/lnk_demo_01").putHeader("User-Agent", "Mozilla/5.0 test")
          .followRedirects(false).send()
          .compose(click -> {
            assertEquals(302, click.statusCode(), click.bodyAsString());
            return h.eventually(() -> Future.succeededFuture(g.clickRecorder().journaled() >= 1), 15_000);
          })
          .map(journaled -> r))
        // An operator watching /health during the failover sees why deliveries get 503 (reads are still served).
        .compose(r -> h.get(g, "/health").map(health -> new Object[] {r, health.bodyAsJsonObject()})))
      .compose(seenThen -> vertx.executeBlocking(() -> {
        HttpResponse<Buffer> r = (HttpResponse<Buffer>) seenThen[0];
        JsonObject redisHealth = ((JsonObject) seenThen[1]).getJsonObject("services").getJsonObject("redis");
        String marker = RedisKeys.webhookDedupe(shard(body), "linktree", "id", "unconfirmed-1");
        Object written = master.call("EXISTS", marker);
        Object clicks = master.call("XLEN", dev.biogate.support.Sharded.clicksOf("demo", "lnk_demo_01"));
        group.settle();
        return new Object[] {r.statusCode(), r.bodyAsJsonObject().getString("error"), r.getHeader("Retry-After"), written,
          redisHealth, clicks};
      }))
      .onComplete(ctx.succeeding(seen -> ctx.verify(() -> {
        assertEquals(503, seen[0]);
        assertEquals("not_replicated", seen[1]);
        assertEquals(true, seen[2] != null && Long.parseLong((String) seen[2]) >= 1, "Retry-After: " + seen[2]);
        assertEquals(0L, seen[3], "nothing written on a master that cannot make it durable");
        assertEquals(0L, seen[5], "no click appended there either");
        JsonObject redisHealth = (JsonObject) seen[4];
        assertEquals("degraded", redisHealth.getString("status"), redisHealth.encode());
        assertEquals(true, redisHealth.getInteger("unconfirmedShards", 0) >= 1, redisHealth.encode());
        ctx.completeNow();
      })));
  }

  /** The shard holding the delivery's markers (picked by its content digest). */
  private static int shard(Buffer body) {
    return Sharded.SHARDS.ofDigestHex(Envelopes.contentDigest("linktree", body));
  }

  private Future<HttpResponse<Buffer>> post(Gateway g, String id, Buffer body) {
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, body), body);
  }
}
