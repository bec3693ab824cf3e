package dev.biogate.webhook;

import dev.biogate.config.Secret;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/** Signed webhook deliveries as Linktree and LinkMe send them, and gateway config that accepts them. */
public final class Deliveries {

  public static final String LINKTREE_SECRET = "whsec_linktree_test_secret_1";
  public static final String LINKME_SECRET = "whsec_linkme_test_secret_1";
  public static final String ADMIN_TOKEN = "admin-token-for-tests-0123456789";

  private Deliveries() {
  }

  /** A {@code webhooks} + {@code admin} config section: both providers signed, fast retries and claims. */
  public static JsonObject config() {
    return new JsonObject()
      .put("webhooks", webhooks())
      .put("admin", new JsonObject().put("token", ADMIN_TOKEN));
  }

  public static JsonObject webhooks() {
    return new JsonObject()
      .put("linktree", new JsonObject().put("secrets", new io.vertx.core.json.JsonArray().add(LINKTREE_SECRET)))
      .put("linkme", new JsonObject().put("secrets", new io.vertx.core.json.JsonArray().add(LINKME_SECRET)))
      .put("claimIdleMs", 500).put("retryBaseMs", 50).put("maxAttempts", 3);
  }

  public static long nowSeconds() {
    return System.currentTimeMillis() / 1000;
  }

  /** Headers of a Linktree delivery signed now. */
  public static MultiMap linktree(String deliveryId, Buffer body) {
    return linktree(deliveryId, body, nowSeconds());
  }

  public static MultiMap linktree(String deliveryId, Buffer body, long timestamp) {
    String ts = Long.toString(timestamp);
    MultiMap h = json()
      .add(LinktreeVerifier.SIGNATURE_HEADER, LinktreeVerifier.sign(Secret.of(LINKTREE_SECRET), ts, body))
      .add(LinktreeVerifier.TIMESTAMP_HEADER, ts);
    if (deliveryId != null) {
      h.add("x-linktree-delivery-id", deliveryId);
    }
    return h;
  }

  public static MultiMap linkme(Buffer body) {
    return json().add(LinkmeVerifier.SIGNATURE_HEADER, LinkmeVerifier.sign(Secret.of(LINKME_SECRET), body));
  }

  public static MultiMap json() {
    return MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json");
  }

  /** The ingest shard the gateway puts a Linktree delivery of this body on (that of its content digest). */
  public static int linktreeShard(Buffer body, dev.biogate.redis.Shards shards) {
    return shards.ofDigestHex(Envelopes.contentDigest(Delivery.LINKTREE, body));
  }

  public static Buffer linktreeEvent(String type, JsonObject data) {
    return new JsonObject().put("type", type).put("data", data).put("timestamp", java.time.Instant.now().toString()).toBuffer();
  }

  /** An {@code analytics.milestone} event: {@code linkId} reached {@code clicks} clicks (what the alert sink forwards). */
  public static Buffer milestone(String linkId, int clicks) {
    return linktreeEvent("analytics.milestone", new JsonObject().put("link_id", linkId).put("metric", "clicks")
      .put("value", clicks).put("threshold", clicks));
  }

  /** Sends a milestone of {@code lnk_demo_01} under each delivery id, one after another; fails on any answer but 200. */
  public static io.vertx.core.Future<Void> milestones(dev.biogate.support.Harness h, dev.biogate.Gateway g, java.util.List<String> ids) {
    io.vertx.core.Future<Void> sent = io.vertx.core.Future.succeededFuture();
    for (String id : ids) {
      sent = sent.compose(v -> {
        Buffer body = milestone("lnk_demo_01", 1000);
        return h.post(g, "/webhooks/linktree", linktree(id, body), body).compose(r -> r.statusCode() == 200
          ? io.vertx.core.Future.<Void>succeededFuture() : io.vertx.core.Future.failedFuture(id + ": " + r.statusCode() + " " + r.bodyAsString()));
      });
    }
    return sent;
  }

  public static Buffer linkmeEvent(String id, String event, JsonObject data) {
    return new JsonObject().put("id", id).put("event", event).put("ts", java.time.Instant.now().toString())
      .put("app_id", "app_test").put("data", data).toBuffer();
  }

  public static Buffer click(String id, String linkId) {
    return linkmeEvent(id, "link.click", new JsonObject().put("link_id", linkId));
  }
}
