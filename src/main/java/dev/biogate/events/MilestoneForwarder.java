package dev.biogate.events;

import dev.biogate.config.Secret;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.util.HexFormat;

/**
 * Forwards Linktree {@code analytics.milestone} events to the configured alert sink: {@code POST} of a JSON body
 * {@code {"type","delivery_id","received","data"}}, signed with {@code X-Biogate-Signature: sha256=<hex HMAC-SHA256
 * of the body>} under the alert secret (when one is set). A non-2xx answer or a timeout fails the attempt; the
 * events stream retries it with backoff and dead-letters it after {@code maxAttempts}. No alert sink: acknowledged.
 */
final class MilestoneForwarder {

  static final String SIGNATURE_HEADER = "X-Biogate-Signature";
  private static final long TIMEOUT_MS = 5_000;

  private final WebClient client;
  private final String alertUrl;
  private final Secret secret;

  MilestoneForwarder(WebClient client, String alertUrl, Secret secret) {
    this.client = client;
    this.alertUrl = alertUrl;
    this.secret = secret;
  }

  Future<Void> forward(StreamEntry e, JsonObject data) {
    if (alertUrl == null) {
      return Future.succeededFuture();
    }
    Buffer body = new JsonObject().put("type", "analytics.milestone").put("delivery_id", e.deliveryId())
      .put("received", Long.parseLong(e.fields.getOrDefault("received", "0"))).put("data", data).toBuffer();
    var request = client.postAbs(alertUrl).timeout(TIMEOUT_MS)
      .putHeader("Content-Type", "application/json")
      .putHeader("X-Biogate-Delivery", e.deliveryId());
    if (secret != null) {
      request.putHeader(SIGNATURE_HEADER, sign(secret, body));
    }
    return request.sendBuffer(body).compose(resp -> resp.statusCode() / 100 == 2 ? Future.<Void>succeededFuture()
      : Future.failedFuture(new EventFailure("alert sink answered " + resp.statusCode())));
  }

  /** {@code sha256=<lowercase hex HMAC-SHA256(secret, body)>}. */
  static String sign(Secret secret, Buffer body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.bytes(), "HmacSHA256"));
      return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body.getBytes()));
    } catch (GeneralSecurityException ex) {
      throw new IllegalStateException("cannot initialise HmacSHA256");
    }
  }
}
