package dev.biogate.config;

import io.vertx.core.json.JsonObject;

/**
 * {@code jobs}: the link batch jobs' runner.
 *
 * @param pollMs how often an instance looks for queued jobs
 * @param leaseMs how long a holder that stopped reporting keeps a job before another instance takes it over
 */
public record JobsOptions(long pollMs, long leaseMs) {

  public static final long DEFAULT_POLL_MS = 1_000;
  public static final long DEFAULT_LEASE_MS = 15_000;

  public JobsOptions(JsonObject json) {
    this(Settings.of(json));
  }

  JobsOptions(Settings s) {
    this(s.longIn("pollMs", DEFAULT_POLL_MS, 10, 600_000), s.longIn("leaseMs", DEFAULT_LEASE_MS, 100, 3_600_000));
  }

  public JsonObject toJson() {
    return new JsonObject().put("pollMs", pollMs).put("leaseMs", leaseMs);
  }
}
