package dev.biogate.webhook;

import dev.biogate.support.Sharded;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.LogCapture;
import dev.biogate.support.ReplicatedHarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Durable acknowledgement against a real master and replica: a delivery is answered 200 only once the replica holds
 * it, and 503 when no replica acknowledges in time (the provider retries; nothing answered 200 can be lost to a
 * failover).
 */
class ReplicaWaitTest extends ReplicatedHarnessTest {

  private Redis replicaClient;

  @Test
  void answers200OnlyOnceAReplicaHoldsTheDeliveryAnd503WhenNoneAcknowledges(Vertx vertx, VertxTestContext ctx) {
    warnings = LogCapture.of(WebhookIngest.class,
      e -> e.getFormattedMessage().startsWith("no replica acknowledged") ? e.getFormattedMessage() : null);
    startReplicated()
      .compose(v -> {
        replicaClient = redis.replica();
        return h.gateway(Deliveries.config().put("webhooks", Deliveries.webhooks().put("replicaWaitMs", 500)));
      })
      .compose(g -> post(g, "durable-1").compose(r -> {
        assertEquals(200, r.statusCode(), r.bodyAsString());
        // Answered 200 only after WAIT: the replica already has it, no polling needed.
        return replicaClient.send(Request.cmd(Command.GET).arg(RedisKeys.webhookDedupe(
          Sharded.SHARDS.ofDigestHex(Envelopes.contentDigest("linktree", lastBody)), "linktree", "id", "durable-1")));
      }).compose(marker -> {
        assertTrue(marker != null, "the replica holds the delivery when it is answered 200");
        // The replica stops acknowledging (busy for 3 s): the next delivery cannot be made durable in time.
        return redis.stallReplica(vertx, 3).compose(stalled -> post(g, "durable-2"));
      }).compose(r -> {
        assertEquals(503, r.statusCode(), r.bodyAsString());
        assertEquals("not_replicated", r.bodyAsJsonObject().getString("error"));
        assertTrue(Long.parseLong(r.getHeader("Retry-After")) >= 1);
        // /health says so while deliveries to that shard are refused (it said healthy: a drill pass found it).
        return h.get(g, "/health");
      }).compose(health -> {
        JsonObject redisState = health.bodyAsJsonObject().getJsonObject("services").getJsonObject("redis");
        assertEquals("degraded", redisState.getString("status"), health.bodyAsString());
        assertEquals(1, redisState.getInteger("refusingShards"), health.bodyAsString());
        // The provider retries once the replica is back: acknowledged now, and handled exactly once.
        return h.eventually(() -> post(g, "durable-2").map(again -> {
          if (again.statusCode() == 503) {
            refused.incrementAndGet();
          }
          return again.statusCode() == 200;
        }), 10_000);
      }).compose(v -> h.get(g, "/health").map(health -> {
        JsonObject redisState = health.bodyAsJsonObject().getJsonObject("services").getJsonObject("redis");
        assertEquals("healthy", redisState.getString("status"), "a delivery to the shard was acknowledged: " + health.bodyAsString());
        return null;
      })).compose(v -> h.eventually(() -> Future.succeededFuture(g.eventStats().handled() == 2), 10_000)))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        warnings.close();
        // Each refusal is answered 503, but the log says it once per interval, not once per delivery.
        assertTrue(refused.get() >= 1, "retries refused while the replica slept: " + refused.get());
        assertEquals(1, warnings.lines().size(), warnings.lines().toString());
        ctx.completeNow();
      })));
  }

  private final java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
  private LogCapture warnings;

  /** The body of the last delivery posted: its digest picks the shard holding its markers. */
  private Buffer lastBody;

  private Future<HttpResponse<Buffer>> post(dev.biogate.Gateway g, String id) {
    Buffer body = Deliveries.linktreeEvent("link.deleted", new JsonObject().put("link_id", id).put("username", "nobody"));
    lastBody = body;
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, body), body);
  }
}
