package dev.biogate.sink;

import dev.biogate.analytics.ClickEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * The JSON:API body of {@code POST /api/events/} for one click (contract 4.3). Klaviyo needs a profile identifier on
 * every event; clicks are anonymous (no visitor e-mail, phone or IP is ever collected), so the event is attached to
 * the creator: {@code {"external_id": "<creator username>"}}. {@code unique_id} is the click's event id, which is what
 * Klaviyo deduplicates on, so a redelivery can never count twice there either.
 */
final class KlaviyoPayload {

  private KlaviyoPayload() {
  }

  static Buffer click(ClickEvent e, String username, String metric) {
    JsonObject properties = new JsonObject()
      .put("link_id", e.linkId())
      .put("creator", username)
      .put("source", e.source());
    JsonObject attributes = new JsonObject()
      .put("properties", properties)
      .put("metric", data("metric", new JsonObject().put("name", metric)))
      .put("profile", data("profile", new JsonObject().put("external_id", username)))
      .put("unique_id", e.eventId())
      .put("time", Instant.ofEpochMilli(e.ts()).toString());
    return new JsonObject().put("data", new JsonObject().put("type", "event").put("attributes", attributes)).toBuffer();
  }

  private static JsonObject data(String type, JsonObject attributes) {
    return new JsonObject().put("data", new JsonObject().put("type", type).put("attributes", attributes));
  }
}
