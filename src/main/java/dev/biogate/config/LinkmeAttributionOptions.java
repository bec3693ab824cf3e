package dev.biogate.config;

import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How LinkMe events are attributed to a creator (section {@code linkme}): {@code apps} maps a LinkMe {@code app_id}
 * to a creator username (which is also the creator's Klaviyo profile {@code external_id}); {@code creatorFields}
 * names the {@code data} fields a sender may fill with the creator instead (first usable one wins). An event neither
 * names is forwarded with the app itself as the profile ({@code linkme-app:<app_id>}), never dropped.
 */
public record LinkmeAttributionOptions(Map<String, String> apps, List<String> creatorFields) {

  public static final List<String> DEFAULT_CREATOR_FIELDS = List.of("creator", "username");

  public LinkmeAttributionOptions(JsonObject json) {
    this(new Settings(json, "linkme", Map.of()));
  }

  /** {@code s}: the validated config's {@code linkme} section (its reads mark the keys known). */
  LinkmeAttributionOptions(Settings s) {
    this(apps(s), creatorFields(s.list("creatorFields")));
  }

  private static Map<String, String> apps(Settings s) {
    Settings appsSection = s.section("apps");
    Map<String, String> m = new HashMap<>();
    JsonObject raw = s.opaque("apps");
    for (String app : raw.fieldNames()) {
      String creator = appsSection.string(app, null);
      if (creator == null) {
        throw appsSection.invalid(app, "must name a creator username");
      }
      m.put(app, creator);
    }
    return Map.copyOf(m);
  }

  private static List<String> creatorFields(List<String> fields) {
    return fields.isEmpty() ? DEFAULT_CREATOR_FIELDS : List.copyOf(fields);
  }

  /** The creator a LinkMe app's events belong to, or {@code null}. */
  public String creatorOfApp(String appId) {
    return appId == null ? null : apps.get(appId);
  }

  public JsonObject toJson() {
    return new JsonObject().put("apps", apps.size()).put("creatorFields", String.join(",", creatorFields));
  }
}
