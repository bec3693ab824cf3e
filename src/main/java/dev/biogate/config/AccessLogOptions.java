package dev.biogate.config;

import io.vertx.core.json.JsonObject;

/**
 * The optional access log ({@code BIOGATE_ACCESS_LOG=true}): off by default; when on, one line for a sampled share
 * of requests ({@code BIOGATE_ACCESS_LOG_SAMPLE}, 0–1, default 1%).
 */
public record AccessLogOptions(boolean enabled, double sampleRate) {

  public static final double DEFAULT_SAMPLE_RATE = 0.01;

  public AccessLogOptions(JsonObject json) {
    this(Settings.of(json));
  }

  AccessLogOptions(Settings s) {
    this(s.bool("enabled", false), s.doubleIn("sampleRate", DEFAULT_SAMPLE_RATE, 0.0, 1.0));
  }

  public JsonObject toJson() {
    return new JsonObject().put("enabled", enabled).put("sampleRate", sampleRate);
  }
}
