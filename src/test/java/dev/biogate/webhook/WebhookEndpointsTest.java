package dev.biogate.webhook;

import dev.biogate.Gateway;
import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import static dev.biogate.webhook.Deliveries.click;
import static dev.biogate.webhook.Deliveries.linkme;
import static dev.biogate.webhook.Deliveries.linktree;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every answer of the two webhook endpoints, over real HTTP, against a real Redis. */
class WebhookEndpointsTest extends HarnessTest {

  private static final Buffer MILESTONE = Deliveries.milestone("l1", 1000);

  @Test
  void acceptsASignedDeliveryOnceAndAnswersRetriesAndReplaysAsDuplicates(VertxTestContext ctx) {
    h.gateway(Deliveries.config()).compose(g -> send(g, "/webhooks/linktree", linktree("d-1", MILESTONE), MILESTONE)
      .compose(first -> {
        assertStatus(200, first);
        assertEquals(new JsonObject().put("received", true), first.bodyAsJsonObject());
        // A provider retry: same delivery id, freshly signed with a later timestamp.
        return send(g, "/webhooks/linktree", linktree("d-1", MILESTONE, Deliveries.nowSeconds() + 1), MILESTONE);
      }).compose(retry -> {
        assertStatus(200, retry);
        assertEquals(new JsonObject().put("duplicate", true), retry.bodyAsJsonObject());
        // A captured delivery replayed under a new (unsigned) delivery id: caught by the signature digest.
        MultiMap replay = linktree("d-1", MILESTONE).set("x-linktree-delivery-id", "d-forged");
        return send(g, "/webhooks/linktree", replay, MILESTONE);
      }).compose(replayed -> {
        assertEquals(new JsonObject().put("duplicate", true), replayed.bodyAsJsonObject());
        Buffer c = click("evt-1", "l1");
        return send(g, "/webhooks/linkme", linkme(c), c).compose(a -> send(g, "/webhooks/linkme", linkme(c), c).map(b -> {
          assertEquals(new JsonObject().put("received", true), a.bodyAsJsonObject());
          assertEquals(new JsonObject().put("duplicate", true), b.bodyAsJsonObject());
          return null;
        }));
      })).onComplete(ctx.succeedingThenComplete());
  }

  /**
   * The LinkMe vectors as a provider sends them, to a running gateway: the valid one is received (and then a duplicate),
   * the others refused as forged. LinkMe signs no clock, so an envelope is not refused for the age of its
   * {@code ts} (the valid vector's is months old; it used to be answered 403 {@code stale_timestamp}).
   */
  @Test
  void theLinkmeVectorsAreAnsweredAsTheyExpect(VertxTestContext ctx) {
    java.util.List<WebhookVectors.Vector> vectors = WebhookVectors.linkme();
    String secret = vectors.get(0).secret();
    JsonObject cfg = new JsonObject().put("webhooks", new JsonObject().put("linkme", new JsonObject().put("secrets", secret)));
    h.gateway(cfg).compose(g -> {
      Future<Void> chain = Future.succeededFuture();
      for (WebhookVectors.Vector v : vectors) {
        assertEquals(secret, v.secret(), "one secret for all LinkMe vectors");
        MultiMap headers = v.headers().add("Content-Type", "application/json");
        chain = chain.compose(x -> send(g, "/webhooks/linkme", headers, v.body())).compose(r -> {
          ctx.verify(() -> {
            if ("valid".equals(v.expect())) {
              assertEquals(new JsonObject().put("received", true), r.bodyAsJsonObject(), v + ": " + r.bodyAsString());
            } else {
              assertError(403, "invalid_signature", r);
            }
          });
          return "valid".equals(v.expect()) ? send(g, "/webhooks/linkme", headers, v.body()).map(again -> {
            ctx.verify(() -> assertEquals(new JsonObject().put("duplicate", true), again.bodyAsJsonObject(), v + " again"));
            return null;
          }) : Future.succeededFuture();
        });
      }
      return chain;
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void refusesUnsignedForgedStaleAndMalformedDeliveriesWithJsonErrors(VertxTestContext ctx) {
    Buffer garbage = Buffer.buffer("{\"type\": \"link.created\", \"data\": {");
    Buffer noData = new JsonObject().put("type", "link.created").toBuffer();
    Buffer linkmeNoId = new JsonObject().put("event", "link.click").put("data", new JsonObject()).toBuffer();
    long longAgo = Deliveries.nowSeconds() - 80 * 3600;
    h.gateway(Deliveries.config()).compose(g -> Future.all(java.util.List.of(
        send(g, "/webhooks/linktree", Deliveries.json().add("x-linktree-delivery-id", "d-2"), MILESTONE),
        send(g, "/webhooks/linktree", linktree("d-3", MILESTONE).set("x-linktree-signature", "0".repeat(64)), MILESTONE),
        send(g, "/webhooks/linktree", linktree("d-4", MILESTONE, longAgo), MILESTONE),
        send(g, "/webhooks/linktree", linktree("d-5", garbage), garbage),
        send(g, "/webhooks/linktree", linktree(null, MILESTONE), MILESTONE),
        send(g, "/webhooks/linktree", linktree("d-6", noData), noData),
        send(g, "/webhooks/linkme", linkme(linkmeNoId), linkmeNoId),
        send(g, "/webhooks/linkme", Deliveries.json(), click("evt-2", "l1")),
        send(g, "/webhooks/linktree", linktree("d-7", MILESTONE).set("Content-Type", "text/plain"), MILESTONE),
        send(g, "/webhooks/linktree", linktree("d-8", MILESTONE).set("Content-Type", "application/json; charset=latin1"), MILESTONE),
        send(g, "/webhooks/linktree", linktree("d-9", MILESTONE).set("Content-Type", "application/json; charset=UTF-8"), MILESTONE),
        // A content coding is refused, not taken as plain JSON: the body below is plain, its label says br.
        send(g, "/webhooks/linktree", linktree("d-10", MILESTONE).set("Content-Encoding", "br"), MILESTONE),
        send(g, "/webhooks/linktree", linktree("d-11", MILESTONE).set("Content-Encoding", "identity"), MILESTONE))))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        assertError(401, "missing_signature", all.resultAt(0));
        assertError(403, "invalid_signature", all.resultAt(1));
        assertError(403, "stale_timestamp", all.resultAt(2));
        assertError(400, "malformed_json", all.resultAt(3));
        assertError(400, "missing_delivery_id", all.resultAt(4));
        assertError(400, "invalid_envelope", all.resultAt(5));
        assertError(400, "invalid_envelope", all.resultAt(6));
        assertError(401, "missing_signature", all.resultAt(7));
        assertError(415, "unsupported_media_type", all.resultAt(8));
        assertError(415, "unsupported_media_type", all.resultAt(9));
        assertStatus(200, all.resultAt(10));
        assertError(415, "unsupported_media_type", all.resultAt(11));
        assertStatus(200, all.resultAt(12));
        ctx.completeNow();
      })));
  }

  /**
   * A field a delivery carries once, sent on two lines, is refused 400 whatever the order: the first line was used,
   * so a valid signature then a forged one was accepted and the reverse refused (a raw-socket pass found it), and an
   * intermediary reading the last line saw another signature, time or id than the gateway verified. Content-Encoding
   * on two lines is one list: identity then gzip is gzip (415), where only the first line was read.
   */
  @Test
  void refusesRepeatedSingleFieldsAndAContentCodingOnASecondLine(VertxTestContext ctx) {
    String forged = "0".repeat(64);
    Buffer batch = KlaviyoDeliveries.batch(java.util.List.of("ext-dup-1"));
    h.gateway(KlaviyoDeliveries.config()).compose(g -> Future.all(java.util.List.of(
        send(g, "/webhooks/linktree", linktree("dup-1", MILESTONE).add("x-linktree-signature", forged), MILESTONE),
        send(g, "/webhooks/linktree", swapped(linktree("dup-2", MILESTONE), "x-linktree-signature", forged), MILESTONE),
        send(g, "/webhooks/linktree", linktree("dup-3", MILESTONE).add("x-linktree-timestamp", "1"), MILESTONE),
        send(g, "/webhooks/linktree", linktree("dup-4", MILESTONE).add("x-linktree-delivery-id", "other"), MILESTONE),
        send(g, "/webhooks/linktree", linktree("dup-5", MILESTONE).add("Content-Type", "text/plain"), MILESTONE),
        send(g, "/webhooks/linkme", linkme(click("dup-6", "l1")).add("X-LinkMe-Signature", "sha256=" + forged), click("dup-6", "l1")),
        send(g, "/webhooks/klaviyo", KlaviyoDeliveries.headers(batch).add("Klaviyo-Webhook-Id", "wh_2"), batch),
        send(g, "/webhooks/linktree", linktree("dup-8", MILESTONE).add("Content-Encoding", "identity").add("Content-Encoding", "gzip"), MILESTONE),
        send(g, "/webhooks/linktree", linktree("dup-9", MILESTONE).add("Content-Encoding", "").add("Content-Encoding", "gzip"), MILESTONE),
        send(g, "/webhooks/linktree", linktree("dup-10", MILESTONE).add("Content-Encoding", "identity").add("Content-Encoding", "identity"), MILESTONE))))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        for (int i = 0; i < 7; i++) {
          assertError(400, "duplicate_header", all.resultAt(i));
        }
        assertError(415, "unsupported_media_type", all.resultAt(7));
        assertError(415, "unsupported_media_type", all.resultAt(8));
        assertStatus(200, all.resultAt(9));
        ctx.completeNow();
      })));
  }

  /** {@code headers} with {@code value} as the first line of {@code name} and its own value as the second. */
  private static MultiMap swapped(MultiMap headers, String name, String value) {
    String own = headers.get(name);
    return headers.set(name, value).add(name, own);
  }

  @Test
  void refusesBodiesOver256KiBWithJson413WhetherDeclaredOrStreamed(Vertx vertx, VertxTestContext ctx) {
    Buffer big = Buffer.buffer(new JsonObject().put("type", "x").put("data", new JsonObject().put("pad", "a".repeat(300 * 1024))).encode());
    HttpClient client = vertx.createHttpClient();
    h.gateway(Deliveries.config()).compose(g -> send(g, "/webhooks/linktree", linktree("d-big", big), big).compose(declared -> {
      assertError(413, "payload_too_large", declared);
      RequestOptions chunked = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(g.port())
        .setURI("/webhooks/linkme").setHeaders(linkme(big));
      return client.request(chunked).compose(req -> {
        req.setChunked(true);
        return req.send(big).compose(resp -> resp.body().map(body -> {
          assertEquals(413, resp.statusCode());
          assertEquals("application/json", resp.getHeader("Content-Type"));
          assertEquals("payload_too_large", body.toJsonObject().getString("error"));
          // One limit, told one way (a raw-socket pass found two wordings), with its size.
          assertEquals(declared.bodyAsJsonObject().getString("message"), body.toJsonObject().getString("message"));
          assertTrue(body.toJsonObject().getString("message").contains("262144 bytes"), body.toString());
          return null;
        }));
      });
    })).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void answers503WhenAProviderHasNoSecretOrIsSwitchedOff(VertxTestContext ctx) {
    JsonObject linkmeOff = Deliveries.config().put("webhooks", Deliveries.webhooks()
      .put("linkme", new JsonObject().put("secrets", new io.vertx.core.json.JsonArray().add(Deliveries.LINKME_SECRET)).put("enabled", false)));
    Buffer c = click("evt-3", "l1");
    h.gateway(new JsonObject()).compose(bare -> h.gateway(linkmeOff).compose(off -> Future.all(
        send(bare, "/webhooks/linktree", linktree("d-10", MILESTONE), MILESTONE),
        send(bare, "/webhooks/linkme", linkme(c), c),
        send(off, "/webhooks/linkme", linkme(c), c),
        send(off, "/webhooks/linktree", linktree("d-11", MILESTONE), MILESTONE))))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        assertError(503, "webhook_disabled", all.resultAt(0));
        assertError(503, "webhook_disabled", all.resultAt(1));
        assertError(503, "webhook_disabled", all.resultAt(2));
        for (int i = 0; i < 3; i++) {
          // README: a 503 tells the provider when to retry; it keeps the delivery until the secret is configured.
          String retryAfter = ((HttpResponse<Buffer>) all.resultAt(i)).getHeader("Retry-After");
          assertTrue(retryAfter != null && Long.parseLong(retryAfter) > 0, "Retry-After on webhook_disabled " + i + ": " + retryAfter);
        }
        assertStatus(200, all.resultAt(3));
        ctx.completeNow();
      })));
  }

  private Future<HttpResponse<Buffer>> send(Gateway g, String path, MultiMap headers, Buffer body) {
    return h.post(g, path, headers, body);
  }

  static void assertStatus(int status, HttpResponse<Buffer> r) {
    assertEquals(status, r.statusCode(), r.bodyAsString());
    assertEquals("application/json", r.getHeader("Content-Type"));
  }

  static void assertError(int status, String code, HttpResponse<Buffer> r) {
    assertStatus(status, r);
    JsonObject body = r.bodyAsJsonObject();
    assertEquals(code, body.getString("error"), r.bodyAsString());
    assertTrue(body.getString("message") != null && !body.getString("message").isEmpty());
  }
}
