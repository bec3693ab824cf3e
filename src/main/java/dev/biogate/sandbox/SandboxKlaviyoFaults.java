package dev.biogate.sandbox;

import io.vertx.core.json.JsonObject;

import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The failure the simulated Klaviyo API is simulating: {@code ok}, {@code down} (503), {@code error} (500 with
 * probability {@code error_rate}) or {@code ratelimit} (429 with {@code Retry-After: retry_after_s}), for the next
 * {@code count} requests (then back to ok) or, with {@code count} 0, until changed. Thread-safe.
 */
public final class SandboxKlaviyoFaults {

  /** One fault setting. */
  public record Fault(String mode, double errorRate, long retryAfterS, int count) {

    public static final Fault OK = new Fault("ok", 1.0, 1, 0);

    /** Parses {@code {"mode","error_rate","retry_after_s","count"}}; throws IllegalArgumentException. */
    public static Fault fromJson(JsonObject json) {
      Object m = json.getValue("mode");
      String mode = m instanceof String ? ((String) m).trim().toLowerCase(Locale.ROOT) : "";
      if (!mode.equals("ok") && !mode.equals("down") && !mode.equals("error") && !mode.equals("ratelimit")) {
        throw new IllegalArgumentException("mode must be one of ok|down|error|ratelimit");
      }
      double rate = number(json, "error_rate", 1.0);
      long retryAfter = (long) number(json, "retry_after_s", 1);
      int count = (int) number(json, "count", 0);
      if (!(rate >= 0 && rate <= 1) || retryAfter < 0 || retryAfter > 86_400 || count < 0) {
        throw new IllegalArgumentException("error_rate must be 0-1, retry_after_s 0-86400, count >= 0");
      }
      return new Fault(mode, rate, retryAfter, count);
    }

    public JsonObject toJson() {
      return new JsonObject().put("mode", mode).put("error_rate", errorRate).put("retry_after_s", retryAfterS).put("count", count);
    }

    private static double number(JsonObject json, String key, double def) {
      Object v = json.getValue(key);
      if (v != null && !(v instanceof Number)) {
        throw new IllegalArgumentException(key + " must be a number");
      }
      return v == null ? def : ((Number) v).doubleValue();
    }
  }

  private Fault settings = Fault.OK;
  private int left;

  public synchronized Fault get() {
    return settings;
  }

  public synchronized void set(Fault s) {
    settings = s;
    left = s.count();
  }

  public synchronized void reset() {
    set(Fault.OK);
  }

  /** The failure for the request arriving now, or {@code null} to answer it normally. */
  synchronized SandboxException failure() {
    if (settings.mode().equals("ok")) {
      return null;
    }
    SandboxException e;
    switch (settings.mode()) {
      case "down":
        e = new SandboxException(503, "service_unavailable", "Klaviyo is down (simulated)");
        break;
      case "ratelimit":
        e = new SandboxException(429, "throttled", "Request was throttled (simulated).", settings.retryAfterS());
        break;
      default:
        e = ThreadLocalRandom.current().nextDouble() < settings.errorRate()
          ? new SandboxException(500, "server_error", "internal error (simulated)") : null;
    }
    if (e != null && settings.count() > 0 && --left <= 0) {
      settings = Fault.OK;
    }
    return e;
  }
}
