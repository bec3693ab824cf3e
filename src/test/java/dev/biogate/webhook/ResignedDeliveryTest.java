package dev.biogate.webhook;

import dev.biogate.support.Harness;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Deduplication on content: the same event re-signed later under a new delivery id is still the same event. */
@ExtendWith(VertxExtension.class)
class ResignedDeliveryTest {

  private Harness h;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    h.start().onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().onComplete(ctx.succeedingThenComplete());
  }

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
