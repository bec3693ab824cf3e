package dev.biogate.events;

import dev.biogate.Gateway;
import dev.biogate.support.Harness;
import dev.biogate.support.Receiver;
import dev.biogate.support.Topology;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Milestones go through the outbound destinations: a destination that fails is retried with backoff, dead-lettered
 * after maxAttempts, and replayed through the admin API into exactly one delivery each, on standalone Redis, Cluster
 * and Sentinel. The event's own history ({@code /admin/deliveries/{id}}) shows the delivery and every attempt.
 */
@ExtendWith(VertxExtension.class)
class DeadLetterReplayTest {

  private Harness h;
  private Receiver receiver;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    receiver = new Receiver(vertx);
    receiver.status.set(500);
    receiver.start().onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().compose(v -> receiver.close()).onComplete(ctx.succeedingThenComplete());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Topology.class)
  void retriesThenDeadLettersThenReplaysToSuccess(Topology topology, VertxTestContext ctx) {
    JsonObject cfg = Deliveries.config().put("destinations", receiver.destinations("ops", "linktree.analytics.milestone")
      .put("maxAttempts", 3).put("retryBaseMs", 20).put("retryMaxMs", 100).put("breakerMaxFailures", 100));
    h.start(topology).compose(x -> h.gateway(cfg)).compose(g -> milestone(g, "m-1").compose(v -> milestone(g, "m-2"))
      .compose(v -> h.eventually(() -> admin(g, "GET", "/admin/destinations/dead-letters")
        .map(r -> r.bodyAsJsonObject().getLong("count") == 2), 10_000))
      .compose(v -> Future.all(admin(g, "GET", "/admin/destinations/dead-letters"), admin(g, "GET", "/admin/deliveries/m-1")))
      .compose(both -> {
        JsonObject list = both.<HttpResponse<Buffer>>resultAt(0).bodyAsJsonObject();
        JsonObject event = both.<HttpResponse<Buffer>>resultAt(1).bodyAsJsonObject();
        assertEquals(6, receiver.requests.size(), "3 attempts for each of the 2 events, no more");
        assertEquals("handled", event.getString("outcome"), "the event itself was handled: " + event.encode());
        assertEquals("forwarded to 1 destination", event.getString("result"));
        JsonObject delivery = event.getJsonArray("destinations").getJsonObject(0);
        assertEquals("dead_lettered", delivery.getString("outcome"));
        assertEquals(3, delivery.getInteger("attempts"));
        assertEquals("destination answered 500", delivery.getString("last_error"));
        assertEquals(3, delivery.getJsonArray("attempt_log").size());
        delivery.getJsonArray("attempt_log").forEach(a -> {
          JsonObject attempt = (JsonObject) a;
          assertEquals(500, attempt.getInteger("status"));
          assertTrue(attempt.getLong("duration_ms") >= 0, attempt.encode());
          assertTrue(attempt.getString("at").endsWith("Z"), attempt.encode());
        });
        JsonObject first = list.getJsonArray("dead_letters").stream().map(JsonObject.class::cast)
          .filter(d -> "m-1".equals(d.getString("delivery_id"))).findFirst().orElseThrow();
        assertEquals(3, first.getInteger("attempts"));
        assertEquals("linktree.analytics.milestone", first.getString("type"));
        assertTrue(!first.containsKey("body"), "no payloads in the listing");
        assertEquals(2, g.outboundStats().deadLettered(), "both dead-lettered by this instance");
        receiver.status.set(200);
        List<Future<HttpResponse<Buffer>>> replays = list.getJsonArray("dead_letters").stream()
          .map(d -> admin(g, "POST", "/admin/destinations/dead-letters/" + ((JsonObject) d).getString("id") + "/replay")).toList();
        return Future.all(replays).map(v -> replays);
      })
      .compose(replays -> {
        replays.forEach(r -> assertEquals(200, r.result().statusCode(), r.result().bodyAsString()));
        return h.eventually(() -> Future.succeededFuture(receiver.delivered().size() == 2), 10_000);
      })
      .compose(v -> h.eventually(() -> destination(g, "m-1").map(d -> "handled".equals(d.getString("outcome"))), 10_000))
      .compose(v -> Future.all(admin(g, "GET", "/admin/destinations/dead-letters"), destination(g, "m-1"),
        admin(g, "POST", "/admin/destinations/dead-letters/1-0/replay")))
      .map(after -> {
        assertEquals(0, after.<HttpResponse<Buffer>>resultAt(0).bodyAsJsonObject().getInteger("count"));
        JsonObject delivery = after.resultAt(1);
        assertEquals(4, delivery.getInteger("attempts"), "3 failed attempts, then 1 successful after the replay");
        assertEquals(1, delivery.getInteger("replays"));
        JsonArray log = delivery.getJsonArray("attempt_log");
        assertEquals(List.of(500, 500, 500, 200), log.stream().map(o -> ((JsonObject) o).getInteger("status")).toList());
        assertEquals(404, after.<HttpResponse<Buffer>>resultAt(2).statusCode(), "replaying an unknown dead letter");
        assertEquals(2, receiver.deliveries(), "one delivery per event");
        assertEquals(2, receiver.requests.stream().map(Receiver.Request::webhookId).distinct().count(),
          "one webhook-id per event and destination, the same on every attempt");
        return null;
      })).onComplete(ctx.succeedingThenComplete());
  }

  private Future<Void> milestone(Gateway g, String deliveryId) {
    Buffer body = Deliveries.linktreeEvent("analytics.milestone",
      new JsonObject().put("link_id", "lnk_demo_01").put("metric", "clicks").put("value", 1000).put("threshold", 1000));
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(deliveryId, body), body).map(r -> {
      assertEquals(200, r.statusCode(), r.bodyAsString());
      return null;
    });
  }

  /** The event's delivery to its one destination, as {@code /admin/deliveries/{id}} shows it. */
  private Future<JsonObject> destination(Gateway g, String deliveryId) {
    return admin(g, "GET", "/admin/deliveries/" + deliveryId)
      .map(r -> r.bodyAsJsonObject().getJsonArray("destinations").getJsonObject(0));
  }

  private Future<HttpResponse<Buffer>> admin(Gateway g, String method, String path) {
    return h.http.request(io.vertx.core.http.HttpMethod.valueOf(method), Harness.portFor(g, path), "127.0.0.1", path)
      .bearerTokenAuthentication(Deliveries.ADMIN_TOKEN).send();
  }
}
