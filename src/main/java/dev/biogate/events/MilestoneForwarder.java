package dev.biogate.events;

import dev.biogate.config.Secret;
import dev.biogate.redis.RedisKeys;
import dev.biogate.sink.Milestone;
import dev.biogate.crypto.HmacSha256;
import dev.biogate.stream.StreamEntry;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;


/**
 * Forwards Linktree {@code analytics.milestone} events to the configured alert sink: {@code POST} of a JSON body
 * {@code {"type","delivery_id","received","data"}}, signed with {@code X-Biogate-Signature: sha256=<hex HMAC-SHA256
 * of the body>} under the alert secret (when one is set). A non-2xx answer or a timeout fails the attempt; the
 * events stream retries it with backoff and dead-letters it after {@code maxAttempts}. No alert sink: acknowledged.
 */
public final class MilestoneForwarder {

  static final String SIGNATURE_HEADER = "X-Biogate-Signature";
  private static final long TIMEOUT_MS = 5_000;

  private final WebClient client;
  private final String alertUrl;
  private final Secret secret;
  private final Redis redis;
  private final boolean toKlaviyo;

  /** {@code toKlaviyo}: also queue each milestone for the Klaviyo sink (which resolves the creator from the link). */
  public MilestoneForwarder(WebClient client, String alertUrl, Secret secret, Redis redis, boolean toKlaviyo) {
    this.client = client;
    this.alertUrl = alertUrl;
    this.secret = secret;
    this.redis = redis;
    this.toKlaviyo = toKlaviyo;
  }

  /**
   * Queues the milestone for Klaviyo (when enabled), then posts it to the alert URL (when set). A failure retries the
   * whole event; queueing twice is harmless, since Klaviyo and the sink deduplicate on the delivery id.
   */
  Future<Void> forward(StreamEntry e, JsonObject data) {
    return queueForKlaviyo(e, data).compose(v -> alert(e, data));
  }

  private Future<Void> queueForKlaviyo(StreamEntry e, JsonObject data) {
    String linkId = data.getValue("link_id") == null ? null : data.getValue("link_id").toString();
    String deliveryId = e.get("delivery_id");
    if (!toKlaviyo || linkId == null || deliveryId == null) {
      return Future.succeededFuture();
    }
    Request xadd = Request.cmd(Command.XADD).arg(RedisKeys.KLAVIYO_RETRY).arg("*")
      .arg("event_id").arg(deliveryId).arg("link_id").arg(linkId)
      .arg("ts").arg(received(e)).arg("source").arg("linktree");
    Object username = data.getValue("username");
    if (username instanceof String) {
      xadd.arg("username").arg((String) username);
    }
    new Milestone(text(data, "metric"), text(data, "value"), text(data, "threshold")).appendFields(xadd);
    return redis.send(xadd).mapEmpty();
  }

  private static String text(JsonObject data, String key) {
    Object v = data.getValue(key);
    return v == null ? "" : v.toString();
  }

  private Future<Void> alert(StreamEntry e, JsonObject data) {
    if (alertUrl == null) {
      return Future.succeededFuture();
    }
    Buffer body = new JsonObject().put("type", "analytics.milestone").put("delivery_id", e.get("delivery_id"))
      .put("received", Long.parseLong(received(e))).put("data", data).toBuffer();
    var request = client.postAbs(alertUrl).timeout(TIMEOUT_MS)
      .putHeader("Content-Type", "application/json")
      .putHeader("X-Biogate-Delivery", e.get("delivery_id"));
    if (secret != null) {
      request.putHeader(SIGNATURE_HEADER, sign(secret, body));
    }
    return request.sendBuffer(body).compose(resp -> resp.statusCode() / 100 == 2 ? Future.<Void>succeededFuture()
      : Future.failedFuture(new EventFailure("alert sink answered " + resp.statusCode())));
  }

  private static String received(StreamEntry e) {
    String r = e.get("received");
    return r == null ? "0" : r;
  }

  /** {@code sha256=<lowercase hex HMAC-SHA256(secret, body)>}. */
  static String sign(Secret secret, Buffer body) {
    return "sha256=" + HmacSha256.sign(secret, new byte[0], body.getBytes());
  }

}
