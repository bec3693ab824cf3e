package dev.biogate.webhook;

import dev.biogate.support.HarnessTest;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code webhooks.replicaWait=on}, the choice the README offers against a lone master acknowledging deliveries alone:
 * with no replica online a delivery is refused ({@code 503 not_replicated}, the provider retries) instead of answered
 * 200 from a master that alone holds it. Here the master (the shared test Redis) has no replica at all.
 */
class ReplicaWaitOnTest extends HarnessTest {

  @Override
  protected JsonObject gatewayOverrides() {
    return Deliveries.config().put("webhooks", Deliveries.webhooks().put("replicaWait", "on").put("replicaWaitMs", 200));
  }

  @Test
  void withNoReplicaADeliveryIsRefusedNotAcknowledgedAlone(VertxTestContext ctx) {
    Buffer body = Deliveries.linktreeEvent("link.deleted", new JsonObject().put("link_id", "lone-1").put("username", "nobody"));
    h.post(g, "/webhooks/linktree", Deliveries.linktree("lone-1", body), body)
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals(503, r.statusCode(), r.bodyAsString());
        assertEquals("not_replicated", r.bodyAsJsonObject().getString("error"), r.bodyAsString());
        ctx.completeNow();
      })));
  }
}
