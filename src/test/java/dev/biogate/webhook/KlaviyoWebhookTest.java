package dev.biogate.webhook;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static dev.biogate.webhook.KlaviyoDeliveries.batch;
import static dev.biogate.webhook.KlaviyoDeliveries.headers;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code POST /webhooks/klaviyo} over real HTTP against a real Redis: every status and exact duplicate counts. */
class KlaviyoWebhookTest extends HarnessTest {

  private static final String PATH = "/webhooks/klaviyo";

  private static List<String> ids(String prefix, int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> prefix + i).collect(Collectors.toList());
  }

  private Future<HttpResponse<Buffer>> send(Gateway g, MultiMap headers, Buffer body) {
    return h.post(g, PATH, headers, body);
  }

  private static void answered(HttpResponse<Buffer> r, int received, int duplicates) {
    assertEquals(200, r.statusCode(), r.bodyAsString());
    assertEquals(new JsonObject().put("received", received).put("duplicates", duplicates), r.bodyAsJsonObject());
  }

  private static void refused(HttpResponse<Buffer> r, int status, String code) {
    assertEquals(status, r.statusCode(), r.bodyAsString());
    assertEquals(code, r.bodyAsJsonObject().getString("error"), r.bodyAsString());
  }

  @Test
  void queuesAValidBatchAndRecordsEveryEventInItsHistory(VertxTestContext ctx) {
    Buffer body = batch(ids("evt-a-", 0, 3));
    h.gateway(KlaviyoDeliveries.config()).compose(g -> send(g, headers(body), body).compose(r -> {
      answered(r, 3, 0);
      return h.eventually(() -> admin(g, "/admin/deliveries/evt-a-2").map(d -> d.statusCode() == 200
        && "handled".equals(d.bodyAsJsonObject().getString("outcome"))), 5_000);
    }).compose(v -> Future.all(admin(g, "/admin/deliveries/evt-a-0"),
      h.redis(Request.cmd(Command.HGET).arg(RedisKeys.KLAVIYO_TOPICS).arg("event:klaviyo.clicked_email"))))
    ).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      JsonObject history = all.<HttpResponse<Buffer>>resultAt(0).bodyAsJsonObject();
      assertEquals("klaviyo", history.getString("provider"));
      assertEquals("event:klaviyo.clicked_email", history.getString("type"));
      assertEquals("handled", history.getString("outcome"));
      assertEquals(1, history.getInteger("deliveries"));
      assertEquals(3, all.<io.vertx.redis.client.Response>resultAt(1).toInteger(), "each event handled once");
      ctx.completeNow();
    })));
  }

  @Test
  void acceptsABatchSignedWithThePreviousSecret(VertxTestContext ctx) {
    Buffer body = batch(ids("evt-r-", 0, 2));
    h.gateway(KlaviyoDeliveries.config())
      .compose(g -> send(g, headers(KlaviyoDeliveries.OLD_SECRET, KlaviyoDeliveries.WEBHOOK_ID, body), body))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        answered(r, 2, 0);
        ctx.completeNow();
      })));
  }

  @Test
  void countsDuplicateAndPartlyDuplicateBatchesExactly(VertxTestContext ctx) {
    Buffer first = batch(ids("evt-d-", 0, 5));
    List<String> overlapping = new ArrayList<>(ids("evt-d-", 3, 8));
    overlapping.add("evt-d-7");
    Buffer second = batch(overlapping);
    h.gateway(KlaviyoDeliveries.config()).compose(g -> send(g, headers(first), first).compose(r -> {
      answered(r, 5, 0);
      return send(g, headers(first), first);
    }).compose(r -> {
      answered(r, 0, 5);
      return send(g, headers(second), second);
    }).compose(r -> {
      // evt-d-3, evt-d-4 known; evt-d-5..7 new; evt-d-7 repeated inside the batch.
      answered(r, 3, 3);
      return h.eventually(() -> h.redis(Request.cmd(Command.HGET).arg(RedisKeys.KLAVIYO_TOPICS).arg("event:klaviyo.clicked_email"))
        .map(n -> n != null && n.toInteger() == 8), 5_000);
    }).compose(v -> h.eventually(() -> h.get(g, "/metrics").map(m -> m.bodyAsString()
        .contains("biogate_webhook_deliveries_total{provider=\"klaviyo\",result=\"duplicate\"} 1.0")
        && m.bodyAsString().contains("biogate_webhook_deliveries_total{provider=\"klaviyo\",result=\"received\"} 2.0")), 5_000))
      // the batch that was all duplicates is a duplicate delivery (it was counted "received" before)
    .compose(v -> admin(g, "/admin/deliveries/evt-d-3"))).onComplete(ctx.succeeding(r -> ctx.verify(() -> {
      assertEquals(3, r.bodyAsJsonObject().getInteger("deliveries"), "sent three times, queued once");
      ctx.completeNow();
    })));
  }

  @Test
  void acceptsAThousandEventBatchAndRefusesMore(VertxTestContext ctx) {
    Buffer thousand = batch(ids("evt-k-", 0, 1000));
    Buffer tooMany = batch(ids("evt-m-", 0, 1001));
    h.gateway(KlaviyoDeliveries.config()).compose(g -> send(g, headers(thousand), thousand).compose(r -> {
      answered(r, 1000, 0);
      return send(g, headers(tooMany), tooMany);
    }).compose(r -> {
      refused(r, 400, "too_many_events");
      return h.eventually(() -> h.redis(Request.cmd(Command.HGET).arg(RedisKeys.KLAVIYO_TOPICS).arg("event:klaviyo.clicked_email"))
        .map(n -> n != null && n.toInteger() == 1000), 30_000);
    }).compose(v -> send(g, headers(thousand), thousand))).onComplete(ctx.succeeding(r -> ctx.verify(() -> {
      answered(r, 0, 1000);
      ctx.completeNow();
    })));
  }

  @Test
  void refusesWhatIsNotAGenuineBatch(VertxTestContext ctx) {
    Buffer body = batch(ids("evt-x-", 0, 2));
    Buffer tampered = Buffer.buffer(body.toString().replace("evt-x-1", "evt-x-9"));
    Buffer otherWebhook = batch("01HOTHERWEBHOOK", ids("evt-x-", 0, 2));
    Buffer malformed = Buffer.buffer("{\"data\":[{\"topic\":\"t\"}],\"meta\":{\"klaviyo_webhook_id\":\"" + KlaviyoDeliveries.WEBHOOK_ID + "\"}}");
    Buffer notJson = Buffer.buffer("{\"data\":[");
    Buffer huge = Buffer.buffer("{\"pad\":\"" + "x".repeat(300 * 1024) + "\"}");
    // meta.klaviyo_webhook_id must equal the header, else 403: absent, not a string, or no meta at all does not.
    Buffer noMetaId = Buffer.buffer("{\"data\":[],\"meta\":{}}");
    Buffer numericMetaId = Buffer.buffer("{\"data\":[],\"meta\":{\"klaviyo_webhook_id\":5}}");
    Buffer noMeta = Buffer.buffer("{\"data\":[]}");
    h.gateway(KlaviyoDeliveries.config()).compose(g -> Future.all(List.of(
      send(g, headers(body).remove(KlaviyoVerifier.SIGNATURE_HEADER), body),
      send(g, headers(body).remove(KlaviyoVerifier.TIMESTAMP_HEADER), body),
      send(g, headers(body).remove(KlaviyoVerifier.WEBHOOK_ID_HEADER), body),
      send(g, headers(body), tampered),
      send(g, headers("not-the-secret", KlaviyoDeliveries.WEBHOOK_ID, body), body),
      send(g, headers(KlaviyoDeliveries.SECRET, "01HOTHERWEBHOOK", body), body),
      send(g, headers(otherWebhook), otherWebhook),
      send(g, headers(malformed), malformed),
      send(g, headers(notJson), notJson),
      send(g, headers(huge), huge),
      send(g, headers(noMetaId), noMetaId),
      send(g, headers(numericMetaId), numericMetaId),
      send(g, headers(noMeta), noMeta)))
    ).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      refused(all.resultAt(0), 401, "missing_signature");
      refused(all.resultAt(1), 401, "missing_signature");
      refused(all.resultAt(2), 401, "missing_signature");
      refused(all.resultAt(3), 403, "invalid_signature");
      refused(all.resultAt(4), 403, "invalid_signature");
      refused(all.resultAt(5), 403, "webhook_id_mismatch");
      refused(all.resultAt(6), 403, "webhook_id_mismatch");
      refused(all.resultAt(7), 400, "invalid_envelope");
      refused(all.resultAt(8), 400, "malformed_json");
      assertEquals(413, all.<HttpResponse<Buffer>>resultAt(9).statusCode());
      refused(all.resultAt(10), 403, "webhook_id_mismatch");
      refused(all.resultAt(11), 403, "webhook_id_mismatch");
      refused(all.resultAt(12), 403, "webhook_id_mismatch");
      ctx.completeNow();
    })));
  }

  /**
   * An integer external_id is its digits (5 and "5" are one event); a fraction or an exponent is refused 400. Read
   * through a double, 1e400 and 2e400 were both Infinity and 51241.000000000000000001 was 51241.0: a distinct event
   * answered 200 and dropped as a duplicate (a raw-socket pass found it).
   */
  @Test
  void anIntegerIdIsItsDigitsAndAFractionOrExponentIsRefused(VertxTestContext ctx) {
    String meta = ",\"meta\":{\"klaviyo_webhook_id\":\"" + KlaviyoDeliveries.WEBHOOK_ID + "\"}}";
    java.util.function.Function<String, Buffer> withId = id -> Buffer.buffer("{\"data\":[{\"topic\":\"event:klaviyo.clicked_email\","
      + "\"external_id\":" + id + ",\"payload\":{}}]" + meta);
    List<String> refusedIds = List.of("1e400", "51241.000000000000000001", "51241E2", "1.5", "-0.0");
    h.gateway(KlaviyoDeliveries.config()).compose(g -> {
      List<Future<HttpResponse<Buffer>>> sent = new java.util.ArrayList<>();
      for (String id : refusedIds) {
        sent.add(send(g, headers(withId.apply(id)), withId.apply(id)));
      }
      return Future.all(sent).compose(refusals -> send(g, headers(withId.apply("98765432109876543210")), withId.apply("98765432109876543210"))
        .compose(big -> send(g, headers(withId.apply("\"98765432109876543210\"")), withId.apply("\"98765432109876543210\""))
          .map(same -> List.of(refusals, big, same))));
    }).onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
      io.vertx.core.CompositeFuture refusals = (io.vertx.core.CompositeFuture) rs.get(0);
      for (int i = 0; i < refusedIds.size(); i++) {
        refused(refusals.resultAt(i), 400, "invalid_envelope");
      }
      assertEquals(new JsonObject().put("received", 1).put("duplicates", 0), ((HttpResponse<?>) rs.get(1)).bodyAsJsonObject());
      assertEquals(new JsonObject().put("received", 0).put("duplicates", 1), ((HttpResponse<?>) rs.get(2)).bodyAsJsonObject(),
        "the integer and its digits as a string are one event");
      ctx.completeNow();
    })));
  }

  @Test
  void answers503WhenNoSecretIsConfigured(VertxTestContext ctx) {
    Buffer body = batch(ids("evt-n-", 0, 1));
    h.gateway(dev.biogate.webhook.Deliveries.config()).compose(g -> send(g, headers(body), body))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        refused(r, 503, "webhook_disabled");
        ctx.completeNow();
      })));
  }

  private Future<HttpResponse<Buffer>> admin(Gateway g, String path) {
    return h.send(HttpMethod.GET, g, path, Deliveries.ADMIN_TOKEN);
  }
}
