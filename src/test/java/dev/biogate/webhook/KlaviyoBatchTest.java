package dev.biogate.webhook;

import dev.biogate.http.ApiException;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** How a verified Klaviyo batch is read into its events. */
class KlaviyoBatchTest {

  private static KlaviyoBatch parse(String topic) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add(KlaviyoVerifier.WEBHOOK_ID_HEADER, "wh-1");
    JsonObject body = new JsonObject()
      .put("data", new JsonArray().add(new JsonObject().put("topic", topic).put("external_id", "evt-1").put("payload", new JsonObject())))
      .put("meta", new JsonObject().put("klaviyo_webhook_id", "wh-1"));
    return KlaviyoBatch.parse(headers, body.toBuffer());
  }

  /**
   * A topic is 1-100 characters, as the docs say: an attack pass found 100 emoji refused, counted as the 200 UTF-16
   * units Java stores them in.
   */
  @Test
  void aTopicIsMeasuredInCharacters() {
    String emoji = "\uD83D\uDE00";
    assertEquals(emoji.repeat(100), parse(emoji.repeat(100)).events.get(0).topic());
    assertEquals("a".repeat(100), parse("a".repeat(100)).events.get(0).topic());
    assertEquals("invalid_envelope", assertThrows(ApiException.class, () -> parse(emoji.repeat(101))).code());
    assertEquals("invalid_envelope", assertThrows(ApiException.class, () -> parse("a".repeat(101))).code());
    assertEquals("invalid_envelope", assertThrows(ApiException.class, () -> parse("")).code());
    // An unpaired surrogate (a JSON escape can send one) was stored as "?": another topic than the one sent.
    assertEquals("invalid_envelope", assertThrows(ApiException.class, () -> parse("a\uD800b")).code());
  }
}
