package dev.biogate.sandbox;

import io.vertx.core.json.JsonObject;

/**
 * The simulated Klaviyo API's settings: the private key it accepts, its rate limit (an exact sliding log of
 * {@code ratePerSec} requests per {@code rateWindowMs}), and how many recent requests its stats keep. Read from the
 * {@code sandbox.klaviyo} config section when the launcher passes it; defaults otherwise.
 */
public record SandboxKlaviyoOptions(String key, int ratePerSec, long rateWindowMs, int recent) {

  /** Not a secret: the sandbox's well-known Klaviyo key. */
  public static final String DEFAULT_KEY = "pk_sandbox_klaviyo";
  public static final int DEFAULT_RATE_PER_SEC = 75;
  public static final long DEFAULT_RATE_WINDOW_MS = 1_000;
  public static final int DEFAULT_RECENT = 100;

  public SandboxKlaviyoOptions {
    if (key == null || key.isBlank()) {
      throw new IllegalArgumentException("sandbox klaviyo key must not be blank");
    }
    if (ratePerSec < 1 || rateWindowMs < 1 || recent < 0) {
      throw new IllegalArgumentException("sandbox klaviyo rate, window and recent must be positive");
    }
  }

  public static SandboxKlaviyoOptions defaults() {
    return new SandboxKlaviyoOptions(DEFAULT_KEY, DEFAULT_RATE_PER_SEC, DEFAULT_RATE_WINDOW_MS, DEFAULT_RECENT);
  }

  /** {@code {"key","ratePerSec","rateWindowMs","recent"}}, each optional. */
  public static SandboxKlaviyoOptions fromJson(JsonObject json) {
    JsonObject j = json == null ? new JsonObject() : json;
    return new SandboxKlaviyoOptions(j.getString("key", DEFAULT_KEY), j.getInteger("ratePerSec", DEFAULT_RATE_PER_SEC),
      j.getLong("rateWindowMs", DEFAULT_RATE_WINDOW_MS), j.getInteger("recent", DEFAULT_RECENT));
  }
}
