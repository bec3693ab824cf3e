package dev.biogate.events;

import dev.biogate.Gateway;
import dev.biogate.sandbox.SandboxKlaviyoOptions;
import dev.biogate.support.Harness;
import dev.biogate.support.TestRedis;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every LinkMe event type has a handler, clicks reach Klaviyo attributed or not, and nothing is dropped silently. */
@ExtendWith(VertxExtension.class)
class LinkmeRoutingTest {

  private Harness h;
  private HttpServer crm;
  private final List<JsonObject> received = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    crm = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      received.add(b.toJsonObject());
      req.response().setStatusCode(204).end();
    }));
    crm.listen(0, "127.0.0.1").compose(s -> h.start(TestRedis.url(), new JsonObject(), SandboxKlaviyoOptions.defaults()))
      .onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().compose(v -> crm.close()).onComplete(ctx.succeedingThenComplete());
  }

  private JsonObject config() {
    return Deliveries.config()
      .put("klaviyo", new JsonObject().put("enabled", true).put("apiBase", h.sandboxBase())
        .put("privateKey", SandboxKlaviyoOptions.DEFAULT_KEY).put("retryBaseMs", 20).put("retryMaxMs", 200))
      .put("linkme", new JsonObject().put("apps", new JsonObject().put("app_mapped", "alice")))
      .put("destinations", new JsonObject().put("endpoints", new JsonArray().add(new JsonObject().put("name", "crm")
        .put("url", "http://127.0.0.1:" + crm.actualPort() + "/in").put("events", new JsonArray()
          .add("linkme.link.claim").add("linkme.link.app_open")))));
  }

  @Test
  void eachLinkmeTypeIsHandledAndWhatNobodyWantsIsRecordedAsSkipped(VertxTestContext ctx) {
    h.gateway(config()).compose(g -> send(g, "e-click", "link.click", "app_test", new JsonObject().put("link_id", "lm_1"))
        .compose(v -> send(g, "e-token", "link.token_created", "app_test", new JsonObject().put("token", "t")))
        .compose(v -> send(g, "e-claim", "link.claim", "app_mapped", new JsonObject().put("token", "t")))
        .compose(v -> send(g, "e-open", "link.app_open", "app_test", new JsonObject().put("creator", "bob")))
        .compose(v -> send(g, "e-deferred", "link.deferred_claim_attempt", "app_test", new JsonObject()))
        .compose(v -> send(g, "e-other", "link.renamed", "app_test", new JsonObject()))
        .compose(v -> send(g, "e-nolink", "link.click", "app_test", new JsonObject()))
        .compose(v -> Future.all(List.of(settled(g, "e-click"), settled(g, "e-token"), settled(g, "e-claim"),
          settled(g, "e-open"), settled(g, "e-deferred"), settled(g, "e-other"), settled(g, "e-nolink"))))
        .map(all -> {
          List<JsonObject> hs = new ArrayList<>();
          for (int i = 0; i < all.size(); i++) {
            hs.add(all.resultAt(i));
          }
          assertHistory(hs.get(0), "handled", "linkme.click", "clicks stream, profile linkme-app:app_test");
          assertHistory(hs.get(1), "skipped", "linkme.token_created", null);
          assertEquals("linkme.token_created: no destination subscribes to linkme.link.token_created", hs.get(1).getString("reason"));
          assertHistory(hs.get(2), "handled", "linkme.claim", "attributed to creator alice; forwarded to 1 destination");
          assertHistory(hs.get(3), "handled", "linkme.app_open", "attributed to creator bob; forwarded to 1 destination");
          assertHistory(hs.get(4), "skipped", "linkme.deferred_claim_attempt", null);
          assertHistory(hs.get(5), "skipped", null, null);
          assertEquals("no handler or destination wants linkme.link.renamed", hs.get(5).getString("reason"));
          assertHistory(hs.get(6), "skipped", "linkme.click", null);
          assertEquals("linkme.click: no usable link_id or event id", hs.get(6).getString("reason"));
          return null;
        })
        .compose(v -> h.eventually(() -> Future.succeededFuture(received.size() >= 2), 5_000))
        .map(v -> {
          assertEquals(2, received.size(), "claim and app_open forwarded to the CRM, nothing else");
          assertTrue(received.stream().anyMatch(r -> "linkme.link.claim".equals(r.getString("type"))));
          assertTrue(received.stream().anyMatch(r -> "linkme.link.app_open".equals(r.getString("type"))));
          return null;
        }))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void anUnmappedClickReachesKlaviyoWithTheAppAsProfileAndAMappedOneWithItsCreator(VertxTestContext ctx) {
    h.gateway(config()).compose(g -> send(g, "c-unmapped", "link.click", "app_test", new JsonObject().put("link_id", "lm_9"))
        .compose(v -> send(g, "c-mapped", "link.click", "app_mapped", new JsonObject().put("link_id", "lm_9")))
        .compose(v -> h.eventually(() -> h.klaviyoStats().map(s -> s.getLong("accepted") >= 2), 10_000))
        .compose(v -> h.klaviyoStats())
        .map(stats -> {
          assertEquals(2L, stats.getLong("accepted"), stats.encode());
          assertEquals("linkme-app:app_test", profileOf(stats, "c-unmapped"));
          assertEquals("alice", profileOf(stats, "c-mapped"));
          return null;
        }))
      .onComplete(ctx.succeedingThenComplete());
  }

  private static String profileOf(JsonObject stats, String uniqueId) {
    for (Object o : stats.getJsonArray("recent")) {
      JsonObject r = (JsonObject) o;
      if (uniqueId.equals(r.getString("unique_id"))) {
        return r.getJsonObject("body").getJsonObject("data").getJsonObject("attributes").getJsonObject("profile")
          .getJsonObject("data").getJsonObject("attributes").getString("external_id");
      }
    }
    return null;
  }

  private static void assertHistory(JsonObject history, String outcome, String handler, String result) {
    assertEquals(outcome, history.getString("outcome"), history.encode());
    assertEquals(handler, history.getString("handler"), history.encode());
    if (result != null) {
      assertEquals(result, history.getString("result"), history.encode());
    }
  }

  private Future<Void> send(Gateway g, String id, String type, String app, JsonObject data) {
    Buffer body = new JsonObject().put("id", id).put("event", type).put("ts", java.time.Instant.now().toString())
      .put("app_id", app).put("data", data).toBuffer();
    return h.post(g, "/webhooks/linkme", Deliveries.linkme(body), body).map(r -> {
      assertEquals(200, r.statusCode(), r.bodyAsString());
      return null;
    });
  }

  /** The delivery's history once its handling is over. */
  private Future<JsonObject> settled(Gateway g, String id) {
    JsonObject[] last = new JsonObject[1];
    return h.eventually(() -> h.send(HttpMethod.GET, g, "/admin/deliveries/" + id, Deliveries.ADMIN_TOKEN).map(r -> {
      last[0] = r.bodyAsJsonObject();
      String o = last[0].getString("outcome");
      return "handled".equals(o) || "skipped".equals(o);
    }), 5_000).map(v -> last[0]);
  }
}
