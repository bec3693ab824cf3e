package dev.biogate.webhook;

import dev.biogate.support.HarnessTest;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Deduplication on content: the same event re-signed later under a new delivery id is still the same event. */
class ResignedDeliveryTest extends HarnessTest {

  @Test
  void theSameBodyResignedWithANewTimestampAndDeliveryIdIsADuplicate(VertxTestContext ctx) {
    Buffer body = Deliveries.linktreeEvent("profile.updated", new JsonObject().put("username", "demo").put("bio", "re-signed"));
    long now = Deliveries.nowSeconds();
    h.gateway(Deliveries.config()).compose(g -> h.post(g, "/webhooks/linktree", Deliveries.linktree("dlv-first", body, now - 120), body)
      .compose(first -> {
        assertEquals(200, first.statusCode(), first.bodyAsString());
        assertEquals(new JsonObject().put("received", true), first.bodyAsJsonObject());
        return h.post(g, "/webhooks/linktree", Deliveries.linktree("dlv-second", body, now), body);
      })
      .map(second -> {
        assertEquals(200, second.statusCode(), second.bodyAsString());
        assertEquals(new JsonObject().put("duplicate", true), second.bodyAsJsonObject());
        return null;
      })).onComplete(ctx.succeedingThenComplete());
  }
}
