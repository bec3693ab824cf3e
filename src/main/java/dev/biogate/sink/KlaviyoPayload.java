package dev.biogate.sink;

import dev.biogate.analytics.ClickEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * The JSON:API body of {@code POST /api/events/} for one click or milestone. Klaviyo needs a profile identifier on
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
    return event(e, username, metric, properties);
  }

  /** Metric name of milestone events in Klaviyo. */
  static final String MILESTONE_METRIC = "Link Milestone Reached";

  /** A Linktree {@code analytics.milestone}: {@code unique_id} is the webhook delivery id, so retries dedupe too. */
  static Buffer milestone(ClickEvent e, String username, Milestone m) {
    JsonObject properties = new JsonObject()
      .put("link_id", e.linkId())
      .put("creator", username)
      .put("metric", m.metric())
      .put("value", number(m.value()))
      .put("threshold", number(m.threshold()));
    return event(e, username, MILESTONE_METRIC, properties);
  }

  /** The event envelope both kinds share: {@code metric}, the creator's profile, {@code unique_id} and {@code time}. */
  private static Buffer event(ClickEvent e, String username, String metric, JsonObject properties) {
    JsonObject attributes = new JsonObject()
      .put("properties", properties)
      .put("metric", data("metric", new JsonObject().put("name", metric)))
      .put("profile", data("profile", new JsonObject().put("external_id", username)))
      .put("unique_id", e.eventId())
      .put("time", Instant.ofEpochMilli(e.ts()).toString());
    return new JsonObject().put("data", new JsonObject().put("type", "event").put("attributes", attributes)).toBuffer();
  }

  /** A number when the text is one (as Linktree sends it), else the text. */
  private static Object number(String s) {
    try {
      return s.contains(".") ? (Object) Double.parseDouble(s) : (Object) Long.parseLong(s);
    } catch (NumberFormatException ex) {
      return s;
    }
  }

  private static JsonObject data(String type, JsonObject attributes) {
    return new JsonObject().put("data", new JsonObject().put("type", type).put("attributes", attributes));
  }
}
