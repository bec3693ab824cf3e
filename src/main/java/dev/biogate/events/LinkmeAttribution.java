package dev.biogate.events;

import dev.biogate.analytics.ClickEvent;
import dev.biogate.config.LinkmeAttributionOptions;
import dev.biogate.http.Usernames;
import io.vertx.core.json.JsonObject;

/**
 * Who a LinkMe event belongs to: the creator named by a {@code data} field the sender fills (first of
 * {@code creatorFields} holding a valid username), else the creator the event's {@code app_id} is mapped to, else
 * nobody; then the app itself stands in as the profile ({@link #appProfile}) so the event still reaches Klaviyo.
 */
final class LinkmeAttribution {

  static final String APP_PROFILE_PREFIX = "linkme-app:";

  private final LinkmeAttributionOptions options;

  LinkmeAttribution(LinkmeAttributionOptions options) {
    this.options = options;
  }

  /** The creator's username, or {@code null}. */
  String creator(JsonObject envelope) {
    JsonObject data = envelope.getValue("data") instanceof JsonObject ? envelope.getJsonObject("data") : new JsonObject();
    for (String f : options.creatorFields()) {
      Object v = data.getValue(f);
      String u = v instanceof String ? Usernames.normalize((String) v) : null;
      if (u != null) {
        return u;
      }
    }
    return Usernames.normalize(options.creatorOfApp(appId(envelope)));
  }

  /** {@code linkme-app:<app_id>}, or {@code null} when the envelope has no usable app id. */
  static String appProfile(JsonObject envelope) {
    String app = appId(envelope);
    return app == null ? null : APP_PROFILE_PREFIX + app;
  }

  private static String appId(JsonObject envelope) {
    Object v = envelope.getValue("app_id");
    String s = v instanceof String || v instanceof Number ? v.toString() : null;
    return ClickEvent.usableId(s) ? s : null;
  }
}
