package dev.biogate.events;

import dev.biogate.support.HarnessTest;
import dev.biogate.webhook.Deliveries;
import dev.biogate.webhook.KlaviyoDeliveries;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Delivery ids are the providers' own, so two providers can use the same one. Found in a drill: a LinkMe event, a
 * Linktree delivery and a Klaviyo event all under {@code collide-7} were each received, and
 * {@code GET /admin/deliveries/collide-7} showed the Linktree record only, with no way to look up the other two.
 * {@code ?provider=} now picks the provider, and without it the answer names the other providers holding the id.
 */
class DeliveryLookupTest extends HarnessTest {

  private static final String ID = "collide-7";

  @Override
  protected JsonObject gatewayOverrides() {
    return KlaviyoDeliveries.config();
  }

  @Test
  void eachProvidersRecordOfOneIdCanBeLookedUpAndTheUnscopedAnswerNamesTheOthers(VertxTestContext ctx) {
    Buffer linkme = Deliveries.click(ID, "lnk_collide");
    Buffer linktree = Deliveries.linktreeEvent("profile.updated", new JsonObject().put("bio", "no name"));
    Buffer klaviyo = KlaviyoDeliveries.batch(List.of(ID));
    h.post(g, "/webhooks/linkme", Deliveries.linkme(linkme), linkme)
      .compose(r -> received(r).compose(v -> h.post(g, "/webhooks/linktree", Deliveries.linktree(ID, linktree), linktree)))
      .compose(r -> received(r).compose(v -> h.post(g, "/webhooks/klaviyo", KlaviyoDeliveries.headers(klaviyo), klaviyo)))
      .compose(r -> received(r).compose(v -> Future.all(List.of(lookup(""), lookup("?provider=linktree"),
        lookup("?provider=linkme"), lookup("?provider=klaviyo"), lookup("?provider=shopify")))))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        HttpResponse<Buffer> unscoped = all.resultAt(0);
        assertEquals(200, unscoped.statusCode(), unscoped.bodyAsString());
        assertEquals("linktree", unscoped.bodyAsJsonObject().getString("provider"), "the first provider in order answers");
        assertEquals(new JsonArray().add("linkme").add("klaviyo"), unscoped.bodyAsJsonObject().getJsonArray("other_providers"),
          unscoped.bodyAsString());
        String[] providers = {"linktree", "linkme", "klaviyo"};
        for (int i = 0; i < providers.length; i++) {
          HttpResponse<Buffer> one = all.resultAt(i + 1);
          assertEquals(200, one.statusCode(), providers[i] + ": " + one.bodyAsString());
          assertEquals(providers[i], one.bodyAsJsonObject().getString("provider"), one.bodyAsString());
          assertEquals(ID, one.bodyAsJsonObject().getString("delivery_id"));
          assertFalse(one.bodyAsJsonObject().containsKey("other_providers"), one.bodyAsString());
        }
        HttpResponse<Buffer> unknown = all.resultAt(4);
        assertEquals(400, unknown.statusCode(), unknown.bodyAsString());
        assertEquals("invalid_provider", unknown.bodyAsJsonObject().getString("error"), unknown.bodyAsString());
        ctx.completeNow();
      })));
  }

  /** A provider without a record of the id answers 404; an id only one provider holds names no others. */
  @Test
  void aProviderWithoutTheIdAnswers404AndALoneRecordNamesNoOthers(VertxTestContext ctx) {
    Buffer linkme = Deliveries.click("alone-1", "lnk_alone");
    h.post(g, "/webhooks/linkme", Deliveries.linkme(linkme), linkme)
      .compose(r -> received(r).compose(v -> Future.all(lookup("alone-1", ""), lookup("alone-1", "?provider=linktree"))))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        HttpResponse<Buffer> unscoped = all.resultAt(0);
        assertEquals(200, unscoped.statusCode(), unscoped.bodyAsString());
        assertEquals("linkme", unscoped.bodyAsJsonObject().getString("provider"));
        assertFalse(unscoped.bodyAsJsonObject().containsKey("other_providers"), unscoped.bodyAsString());
        assertEquals(404, all.<HttpResponse<Buffer>>resultAt(1).statusCode());
        ctx.completeNow();
      })));
  }

  private static Future<Void> received(HttpResponse<Buffer> r) {
    assertEquals(200, r.statusCode(), r.bodyAsString());
    return Future.succeededFuture();
  }

  private Future<HttpResponse<Buffer>> lookup(String query) {
    return lookup(ID, query);
  }

  private Future<HttpResponse<Buffer>> lookup(String id, String query) {
    return h.send(HttpMethod.GET, g, "/admin/deliveries/" + id + query, Deliveries.ADMIN_TOKEN);
  }
}
