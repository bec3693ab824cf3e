package dev.biogate.events;

import dev.biogate.Gateway;
import dev.biogate.support.Harness;
import dev.biogate.support.Receiver;
import dev.biogate.support.Topology;
import dev.biogate.support.UnstartedHarnessTest;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A failing handler is retried with backoff, dead-lettered after maxAttempts, and replayed through the admin API, on
 * standalone Redis, Cluster and Sentinel.
 */
class DeadLetterReplayTest extends UnstartedHarnessTest {

  private static final String ALERT_SECRET = "alert-signing-secret";

  private Receiver alertSink;

  @BeforeEach
  void startAlertSink(VertxTestContext ctx) {
    h.receiver(500).onSuccess(r -> alertSink = r).onComplete(ctx.succeedingThenComplete());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Topology.class)
  void retriesThenDeadLettersThenReplaysToSuccess(Topology topology, VertxTestContext ctx) {
    JsonObject cfg = Deliveries.config().put("webhooks", Deliveries.webhooks().put("alerts", new JsonObject()
      .put("url", alertSink.url("/alerts")).put("secret", ALERT_SECRET)));
    h.start(topology).compose(x -> h.gateway(cfg)).compose(g -> milestone(g, "m-1").compose(v -> milestone(g, "m-2"))
      .compose(v -> h.eventually(() -> admin(g, "GET", "/admin/dead-letters").map(r -> r.bodyAsJsonObject().getLong("count") == 2), 5_000))
      .compose(v -> Future.all(admin(g, "GET", "/admin/dead-letters"), admin(g, "GET", "/admin/deliveries/m-1")))
      .compose(both -> {
        JsonObject list = both.<HttpResponse<Buffer>>resultAt(0).bodyAsJsonObject();
        JsonObject history = both.<HttpResponse<Buffer>>resultAt(1).bodyAsJsonObject();
        assertEquals(6, alertSink.received().size(), "3 attempts for each of the 2 events, no more");
        assertEquals("dead_lettered", history.getString("outcome"));
        assertEquals(3, history.getInteger("attempts"));
        assertEquals("alert sink answered 500", history.getString("last_error"));
        assertEquals("analytics.milestone", history.getString("type"));
        JsonObject first = list.getJsonArray("dead_letters").stream().map(JsonObject.class::cast)
          .filter(d -> "m-1".equals(d.getString("delivery_id"))).findFirst().orElseThrow();
        assertEquals(3, first.getInteger("attempts"));
        assertTrue(!first.containsKey("body"), "no payloads in the listing");
        assertEquals(2, g.eventStats().deadLettered(), "both dead-lettered by this instance");
        alertSink.answer(200);
        // The shard as listed: two shards can hold the same entry id (both dead-lettered in the same millisecond).
        return admin(g, "POST", "/admin/dead-letters/" + first.getString("id") + "/replay?shard=" + first.getInteger("shard"));
      })
      .compose(replayed -> {
        assertEquals(200, replayed.statusCode(), replayed.bodyAsString());
        assertEquals(1, replayed.bodyAsJsonObject().getInteger("replayed"));
        return outcome(g, "m-1", "handled");
      })
      .compose(v -> admin(g, "POST", "/admin/dead-letters/replay"))
      .compose(all -> {
        assertEquals(1, all.bodyAsJsonObject().getInteger("replayed"), all.bodyAsString());
        return outcome(g, "m-2", "handled");
      })
      .compose(v -> Future.all(admin(g, "GET", "/admin/dead-letters"), admin(g, "GET", "/admin/deliveries/m-1"),
        admin(g, "POST", "/admin/dead-letters/1-0/replay")))
      .map(after -> {
        assertEquals(0, after.<HttpResponse<Buffer>>resultAt(0).bodyAsJsonObject().getInteger("count"));
        JsonObject history = after.<HttpResponse<Buffer>>resultAt(1).bodyAsJsonObject();
        assertEquals(4, history.getInteger("attempts"), "3 failed attempts, then 1 successful after the replay");
        assertEquals(1, history.getInteger("replays"));
        assertEquals(404, after.<HttpResponse<Buffer>>resultAt(2).statusCode(), "replaying an unknown dead letter");
        List<Receiver.Received> delivered = alertSink.answered(200);
        assertEquals(2, delivered.size());
        for (Receiver.Received a : delivered) {
          assertEquals(sign(a.body()), a.header("X-Biogate-Signature"), "alert signed with the alert secret");
          JsonObject forwarded = new JsonObject(a.body());
          assertEquals("analytics.milestone", forwarded.getString("type"));
          assertEquals(1000, forwarded.getJsonObject("data").getInteger("value"));
        }
        return null;
      })).onComplete(ctx.succeedingThenComplete());
  }

  private Future<Void> milestone(Gateway g, String deliveryId) {
    Buffer body = Deliveries.milestone("lnk_demo_01", 1000);
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(deliveryId, body), body).map(r -> {
      assertEquals(200, r.statusCode(), r.bodyAsString());
      return null;
    });
  }

  private Future<Void> outcome(Gateway g, String deliveryId, String outcome) {
    return h.eventually(() -> admin(g, "GET", "/admin/deliveries/" + deliveryId)
      .map(r -> outcome.equals(r.bodyAsJsonObject().getString("outcome"))), 5_000);
  }

  private Future<HttpResponse<Buffer>> admin(Gateway g, String method, String path) {
    return h.http.request(io.vertx.core.http.HttpMethod.valueOf(method), Harness.portFor(g, path), "127.0.0.1", path)
      .bearerTokenAuthentication(Deliveries.ADMIN_TOKEN).send();
  }

  private static String sign(String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(ALERT_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
