package dev.biogate.webhook;

import dev.biogate.config.Secret;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** Klaviyo system-webhook batches as Klaviyo sends them, signed with {@link KlaviyoVerifier#sign}. */
public final class KlaviyoDeliveries {

  public static final String SECRET = "klaviyo-webhook-secret-current";
  public static final String OLD_SECRET = "klaviyo-webhook-secret-previous";
  public static final String WEBHOOK_ID = "01HWEBHOOKK6";

  private KlaviyoDeliveries() {
  }

  /** A {@code webhooks} section accepting Klaviyo (current and previous secret) besides the other providers. */
  public static JsonObject config() {
    JsonObject c = Deliveries.config();
    c.getJsonObject("webhooks").put("klaviyo", new JsonObject().put("secrets", SECRET + "," + OLD_SECRET));
    return c;
  }

  /** A batch body with one {@code event:klaviyo.clicked_email} event per external id. */
  public static Buffer batch(String webhookId, List<String> externalIds) {
    JsonArray data = new JsonArray();
    for (String id : externalIds) {
      data.add(new JsonObject().put("topic", "event:klaviyo.clicked_email").put("external_id", id)
        .put("payload", new JsonObject().put("email", "reader@example.com").put("campaign", "c-1")));
    }
    return new JsonObject().put("data", data).put("meta", new JsonObject().put("klaviyo_account_id", "ACCT1")
      .put("klaviyo_webhook_id", webhookId).put("timestamp", java.time.Instant.now().toString())).toBuffer();
  }

  public static Buffer batch(List<String> externalIds) {
    return batch(WEBHOOK_ID, externalIds);
  }

  /** Headers of {@code body} signed now with {@code secret}, announcing {@code webhookId}. */
  public static MultiMap headers(String secret, String webhookId, Buffer body) {
    String ts = Long.toString(Deliveries.nowSeconds());
    return Deliveries.json()
      .add(KlaviyoVerifier.SIGNATURE_HEADER, KlaviyoVerifier.sign(Secret.of(secret), ts, body))
      .add(KlaviyoVerifier.TIMESTAMP_HEADER, ts)
      .add(KlaviyoVerifier.WEBHOOK_ID_HEADER, webhookId);
  }

  public static MultiMap headers(Buffer body) {
    return headers(SECRET, WEBHOOK_ID, body);
  }
}
