package dev.biogate.webhook;

import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A Linktree delivery is the same delivery when its delivery id is (a retry, which may be re-signed) or its signature
 * is (a capture replayed under a new id): never for its body alone. Found by a conformance client: a change back to
 * an earlier state (a title X, then Y, then X again) sends the first body again under a new delivery id and timestamp,
 * and deduplicating on the body answered it {@code {"duplicate":true}} and dropped it: the profile kept Y, and
 * Linktree, told 200, never sent it again. Bodies need carry no time of their own (a contract vector has none).
 */
class ResignedDeliveryTest extends HarnessTest {

  @Test
  void aBodyRepeatingAnEarlierOneUnderANewDeliveryIsANewDelivery(VertxTestContext ctx) {
    Buffer x = update("the first bio");
    Buffer y = update("the second bio");
    long now = Deliveries.nowSeconds();
    h.gateway(Deliveries.config()).compose(g -> h.get(g, "/v1/profiles/demo")
      .compose(v -> received(h.post(g, "/webhooks/linktree", Deliveries.linktree("dlv-x", x, now - 2), x)))
      .compose(v -> received(h.post(g, "/webhooks/linktree", Deliveries.linktree("dlv-y", y, now - 1), y)))
      .compose(v -> received(h.post(g, "/webhooks/linktree", Deliveries.linktree("dlv-x-again", x, now), x)))
      .compose(v -> h.eventually(() -> h.get(g, "/v1/profiles/demo")
        .map(r -> "the first bio".equals(r.bodyAsJsonObject().getString("bio"))), 10_000))
      // The retry of that last delivery, re-signed under its own id, is still a duplicate.
      .compose(v -> h.post(g, "/webhooks/linktree", Deliveries.linktree("dlv-x-again", x, now + 1), x))
      .map(retry -> {
        assertEquals(new JsonObject().put("duplicate", true), retry.bodyAsJsonObject(), retry.bodyAsString());
        return null;
      })).onComplete(ctx.succeedingThenComplete());
  }

  /** A complete {@code profile.updated} of demo (patched, not merely marked outdated), with no time in its body. */
  private static Buffer update(String bio) {
    return new JsonObject().put("type", "profile.updated").put("data", new JsonObject().put("username", "demo")
      .put("bio", bio).put("avatar_url", "https://cdn.example.com/demo.png").put("theme", "dark")).toBuffer();
  }

  private static Future<Void> received(Future<io.vertx.ext.web.client.HttpResponse<Buffer>> answer) {
    return answer.map(r -> {
      assertEquals(200, r.statusCode(), r.bodyAsString());
      assertEquals(new JsonObject().put("received", true), r.bodyAsJsonObject(), r.bodyAsString());
      return null;
    });
  }
}
