package dev.biogate.webhook;

import dev.biogate.redis.RedisKeys;
import dev.biogate.support.ReplicatedHarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import java.util.List;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A Klaviyo batch is answered 200 only once a replica holds it, as Linktree and LinkMe deliveries are: its script ran
 * without {@code WAIT}, so a failover right after a 200 could lose the whole batch (found reading the ingest paths
 * side by side). No replica acknowledging in time is a 503 {@code not_replicated}; the provider's retry is then
 * received or found a duplicate, never lost.
 */
class KlaviyoReplicaWaitTest extends ReplicatedHarnessTest {

  @Test
  void aBatchIsAnswered200OnlyOnceAReplicaHoldsIt(Vertx vertx, VertxTestContext ctx) {
    Buffer first = KlaviyoDeliveries.batch(List.of("kl-durable-1", "kl-durable-2"));
    Buffer second = KlaviyoDeliveries.batch(List.of("kl-durable-3"));
    startReplicated()
      .compose(v -> h.gateway(KlaviyoDeliveries.config().put("webhooks",
        KlaviyoDeliveries.config().getJsonObject("webhooks").copy().put("replicaWaitMs", 500))))
      .compose(g -> post(g, first).compose(r -> {
        assertEquals(200, r.statusCode(), r.bodyAsString());
        // Answered 200 after WAIT: the replica already holds the markers, no polling needed.
        return redis.replica().send(Request.cmd(Command.EXISTS)
          .arg(RedisKeys.webhookDedupe(KlaviyoIngest.SHARD, KlaviyoBatch.PROVIDER, "id", "kl-durable-2")));
      }).compose(marker -> {
        assertNotNull(marker);
        assertEquals(1, marker.toInteger(), "the replica holds the batch when it is answered 200");
        return redis.stallReplica(vertx, 3).compose(stalled -> post(g, second));
      }).compose(r -> {
        assertEquals(503, r.statusCode(), r.bodyAsString());
        assertEquals("not_replicated", r.bodyAsJsonObject().getString("error"));
        // The retry once the replica is back: received (or a duplicate, had the first write survived), never lost.
        return h.eventually(() -> post(g, second).map(again -> again.statusCode() == 200), 10_000);
      }).compose(v -> h.eventually(() -> redis.replica().send(Request.cmd(Command.EXISTS)
        .arg(RedisKeys.webhookDedupe(KlaviyoIngest.SHARD, KlaviyoBatch.PROVIDER, "id", "kl-durable-3")))
        .map(n -> n != null && n.toInteger() == 1), 5_000)))
      .onComplete(ctx.succeedingThenComplete());
  }

  private Future<HttpResponse<Buffer>> post(dev.biogate.Gateway g, Buffer body) {
    return h.post(g, "/webhooks/klaviyo", KlaviyoDeliveries.headers(body), body);
  }
}
