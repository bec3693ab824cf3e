package dev.biogate.sandbox;

import io.vertx.core.json.JsonObject;

import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The upstream failure the sandbox is currently simulating on its API paths (never on {@code /__sandbox}):
 * {@code ok}, {@code down} (503), {@code slow} (answer normally after {@code latency_ms}), {@code error}
 * (500 with probability {@code error_rate}) or {@code ratelimit} (429 with {@code Retry-After: retry_after_s}).
 * Each {@link #set} replaces every setting; fields left out take their defaults. Thread-safe.
 */
public final class SandboxFaults {

  /** The failure being simulated. */
  public enum Mode { OK, DOWN, SLOW, ERROR, RATELIMIT }

  public static final long DEFAULT_LATENCY_MS = 1_000;
  public static final double DEFAULT_ERROR_RATE = 1.0;
  public static final long DEFAULT_RETRY_AFTER_S = 30;
  static final long MAX_LATENCY_MS = 600_000;
  static final long MAX_RETRY_AFTER_S = 86_400;

  /** One immutable fault configuration. */
  public record Fault(Mode mode, long latencyMs, double errorRate, long retryAfterS) {

    public static final Fault OK = new Fault(Mode.OK, DEFAULT_LATENCY_MS, DEFAULT_ERROR_RATE, DEFAULT_RETRY_AFTER_S);

    public Fault {
      if (mode == null) {
        throw new IllegalArgumentException("mode must be one of ok|down|slow|error|ratelimit");
      }
      if (latencyMs < 0 || latencyMs > MAX_LATENCY_MS) {
        throw new IllegalArgumentException("latency_ms must be between 0 and " + MAX_LATENCY_MS);
      }
      if (!(errorRate >= 0 && errorRate <= 1)) {
        throw new IllegalArgumentException("error_rate must be between 0 and 1");
      }
      if (retryAfterS < 1 || retryAfterS > MAX_RETRY_AFTER_S) {
        throw new IllegalArgumentException("retry_after_s must be between 1 and " + MAX_RETRY_AFTER_S);
      }
    }

    /** Parses {@code {"mode","latency_ms","error_rate","retry_after_s"}}; throws IllegalArgumentException. */
    public static Fault fromJson(JsonObject json) {
      Object mode = json.getValue("mode");
      if (!(mode instanceof String)) {
        throw new IllegalArgumentException("mode must be one of ok|down|slow|error|ratelimit");
      }
      Mode parsed;
      try {
        parsed = Mode.valueOf(((String) mode).trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("mode must be one of ok|down|slow|error|ratelimit");
      }
      return new Fault(parsed,
        wholeNumber(json, "latency_ms", DEFAULT_LATENCY_MS),
        number(json, "error_rate", DEFAULT_ERROR_RATE),
        wholeNumber(json, "retry_after_s", DEFAULT_RETRY_AFTER_S));
    }

    public JsonObject toJson() {
      return new JsonObject().put("mode", mode.name().toLowerCase(Locale.ROOT)).put("latency_ms", latencyMs)
        .put("error_rate", errorRate).put("retry_after_s", retryAfterS);
    }

    private static double number(JsonObject json, String key, double def) {
      Object v = json.getValue(key);
      if (v == null) {
        return def;
      }
      if (!(v instanceof Number)) {
        throw new IllegalArgumentException(key + " must be a number");
      }
      return ((Number) v).doubleValue();
    }

    private static long wholeNumber(JsonObject json, String key, long def) {
      double d = number(json, key, def);
      if (d != Math.rint(d)) {
        throw new IllegalArgumentException(key + " must be a whole number");
      }
      return (long) d;
    }
  }

  private volatile Fault settings = Fault.OK;

  public Fault get() {
    return settings;
  }

  public void set(Fault settings) {
    this.settings = settings;
  }

  public void reset() {
    settings = Fault.OK;
  }

  /** How long to hold the current request before answering it: latency_ms in slow mode, else 0. */
  long delayMs() {
    Fault s = settings;
    return s.mode() == Mode.SLOW ? s.latencyMs() : 0;
  }

  /** The failure to answer the current request with, or null to answer it normally. */
  SandboxException failure() {
    Fault s = settings;
    switch (s.mode()) {
      case DOWN:
        return new SandboxException(503, "unavailable", "upstream is down (simulated)");
      case ERROR:
        return ThreadLocalRandom.current().nextDouble() < s.errorRate()
          ? new SandboxException(500, "internal", "upstream error (simulated)") : null;
      case RATELIMIT:
        return new SandboxException(429, "rate_limited", "rate limit exceeded (simulated)", s.retryAfterS());
      default:
        return null;
    }
  }
}
