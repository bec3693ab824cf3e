package dev.biogate.events;

import dev.biogate.Gateway;
import dev.biogate.support.HarnessTest;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The delivery history says what a Linktree profile or link event did to the cached copies. Found by a newcomer:
 * every such event read "cached copies updated or marked outdated", whether its change was applied or, naming a
 * {@code javascript:} link, only marked the copy outdated: an operator could not tell whether the content was taken.
 */
class DeliveryResultTest extends HarnessTest {

  @Override
  protected JsonObject gatewayOverrides() {
    return Deliveries.config();
  }

  @Test
  void aPatchAnOutdatedCopyAndAnUnknownCreatorReadDifferently(VertxTestContext ctx) {
    Buffer complete = Deliveries.linktreeEvent("profile.updated", new JsonObject().put("username", "demo")
      .put("bio", "patched").put("avatar_url", "https://cdn.example.com/a.png").put("theme", "dark"));
    Buffer unsafe = Deliveries.linktreeEvent("link.created", new JsonObject().put("username", "demo")
      .put("link_id", "lnk_js").put("title", "x").put("url", "javascript:alert(1)").put("position", 9));
    Buffer stranger = Deliveries.linktreeEvent("profile.updated", new JsonObject().put("bio", "no name"));
    h.get(g, "/v1/profiles/demo")
      .compose(r -> result("r-patch", complete))
      .compose(patched -> result("r-unsafe", unsafe).compose(outdated -> result("r-stranger", stranger)
        .map(none -> new String[] {patched, outdated, none})))
      .onComplete(ctx.succeeding(results -> ctx.verify(() -> {
        assertEquals("cached copies patched", results[0]);
        assertEquals("cached copies marked outdated (the event was incomplete, or named a link URL that is not served):"
          + " the next read fetches the profile", results[1]);
        assertEquals("no creator known for it: nothing cached to correct", results[2]);
        ctx.completeNow();
      })));
  }

  /** Sends a signed delivery and waits until its history says it was handled; its result. */
  private Future<String> result(String id, Buffer body) {
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, body), body)
      .compose(sent -> {
        assertEquals(200, sent.statusCode(), sent.bodyAsString());
        return h.eventually(() -> history(id).map(d -> d.statusCode() == 200
          && "handled".equals(d.bodyAsJsonObject().getString("outcome"))), 10_000);
      })
      .compose(v -> history(id)).map(d -> d.bodyAsJsonObject().getString("result"));
  }

  private Future<HttpResponse<Buffer>> history(String id) {
    return h.send(HttpMethod.GET, g, "/admin/deliveries/" + id, Deliveries.ADMIN_TOKEN);
  }
}
