package dev.biogate.config;

import io.vertx.core.json.JsonObject;

/**
 * The operator API under {@code /admin/*}: disabled (401 for everything) unless a token is configured.
 *
 * @param token the bearer token, or {@code null} when the admin API is disabled
 */
public record AdminOptions(Secret token) {

  public AdminOptions(JsonObject json) {
    this(Settings.of(json));
  }

  AdminOptions(Settings s) {
    this(Secret.of(s.string("token", null)));
    if (token != null && token.reveal().length() < 16) {
      throw s.invalid("token", "must be at least 16 characters");
    }
  }

  public JsonObject toJson() {
    return new JsonObject().put("enabled", token != null);
  }
}
