package dev.biogate.sandbox;

import io.vertx.core.json.JsonObject;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * The shape Klaviyo's {@code POST /api/events/} requires (revision 2024-10-15): a JSON:API {@code data} of type
 * {@code event} whose attributes hold {@code properties} (an object), {@code metric.data} of type {@code metric} with
 * a {@code name}, and {@code profile.data} of type {@code profile} carrying at least one identifier
 * ({@code email}, {@code phone_number}, {@code external_id}, {@code anonymous_id}, or an {@code id}); {@code time} an
 * ISO-8601 datetime and {@code unique_id} a string when present.
 */
final class SandboxKlaviyoValidator {

  /** Why a body was refused: a JSON pointer into it and what is wrong there. */
  record Problem(String pointer, String detail) {
  }

  private static final String[] IDENTIFIERS = {"email", "phone_number", "external_id", "anonymous_id"};

  private SandboxKlaviyoValidator() {
  }

  /** {@code null} when the body is a valid event. */
  static Problem check(JsonObject body) {
    JsonObject data = object(body, "data");
    if (data == null || !"event".equals(data.getValue("type"))) {
      return new Problem("/data/type", "data must be an object of type 'event'");
    }
    JsonObject attributes = object(data, "attributes");
    if (attributes == null) {
      return new Problem("/data/attributes", "attributes are required");
    }
    if (object(attributes, "properties") == null) {
      return new Problem("/data/attributes/properties", "properties must be an object");
    }
    JsonObject metric = object(object(attributes, "metric"), "data");
    JsonObject metricAttributes = object(metric, "attributes");
    if (metric == null || !"metric".equals(metric.getValue("type")) || metricAttributes == null
      || !(metricAttributes.getValue("name") instanceof String) || metricAttributes.getString("name").isBlank()) {
      return new Problem("/data/attributes/metric/data", "metric.data must be of type 'metric' with a name");
    }
    JsonObject profile = object(object(attributes, "profile"), "data");
    if (profile == null || !"profile".equals(profile.getValue("type"))) {
      return new Problem("/data/attributes/profile/data", "profile.data must be of type 'profile'");
    }
    if (!identified(profile)) {
      return new Problem("/data/attributes/profile/data/attributes", "a profile identifier is required (email, phone_number, external_id, anonymous_id or id)");
    }
    Object time = attributes.getValue("time");
    if (time != null && !(time instanceof String && isoDateTime((String) time))) {
      return new Problem("/data/attributes/time", "time must be an ISO-8601 datetime");
    }
    Object uniqueId = attributes.getValue("unique_id");
    if (uniqueId != null && !(uniqueId instanceof String)) {
      return new Problem("/data/attributes/unique_id", "unique_id must be a string");
    }
    return null;
  }

  private static boolean identified(JsonObject profile) {
    if (profile.getValue("id") instanceof String) {
      return true;
    }
    JsonObject attributes = object(profile, "attributes");
    if (attributes == null) {
      return false;
    }
    for (String id : IDENTIFIERS) {
      Object v = attributes.getValue(id);
      if (v instanceof String && !((String) v).isBlank()) {
        return true;
      }
    }
    return false;
  }

  private static boolean isoDateTime(String s) {
    try {
      OffsetDateTime.parse(s);
      return true;
    } catch (DateTimeParseException e) {
      return false;
    }
  }

  private static JsonObject object(JsonObject parent, String key) {
    if (parent == null) {
      return null;
    }
    Object v = parent.getValue(key);
    return v instanceof JsonObject ? (JsonObject) v : null;
  }
}
