package dev.biogate.config;

import io.vertx.core.json.JsonObject;

/**
 * The upstream Linktree API and how the gateway spends it. Timeouts and limits follow the provider's
 * production checklist: 10 s profile reads, 30 s analytics, 90 requests/min client-side (below the hard 100),
 * breaker open after 5 consecutive failures.
 */
public final class LinktreeOptions {

  public static final int DEFAULT_RATE_LIMIT_PER_MIN = 90;
  public static final long DEFAULT_RATE_PERIOD_MS = 60_000;
  public static final long DEFAULT_PROFILE_TIMEOUT_MS = 10_000;
  public static final long DEFAULT_ANALYTICS_TIMEOUT_MS = 30_000;
  public static final int DEFAULT_MAX_RETRIES = 2;
  public static final long DEFAULT_RETRY_BASE_DELAY_MS = 200;
  public static final long DEFAULT_RETRY_MAX_DELAY_MS = 2_000;
  public static final int DEFAULT_BREAKER_MAX_FAILURES = 5;
  public static final long DEFAULT_BREAKER_RESET_MS = 30_000;
  public static final int DEFAULT_MAX_LINK_PAGES = 50;
  /** Share of the budget only foreground misses may use (see the upstream budget). */
  public static final double DEFAULT_FOREGROUND_RESERVE = 0.3;
  /** Share kept from background revalidation for webhook-announced refreshes. */
  public static final double DEFAULT_REFRESH_RESERVE = 0.2;
  /** How often an instance announces itself to the shared budget (and probes Redis while degraded). */
  public static final long DEFAULT_HEARTBEAT_MS = 1_000;
  /** Instances an instance assumes share the budget until it has read the roster once. */
  public static final int DEFAULT_MAX_INSTANCES = 16;
  /** How long after its last report an instance cut off from Redis may keep granting itself permits. */
  public static final long DEFAULT_LOCAL_GRANT_MS = 120_000;
  /** Share of the budget names never seen before may use (see the README's budget section). */
  public static final double DEFAULT_FIRST_SIGHT_SHARE = 0.2;

  private final String apiBase;
  private final Secret token;
  private final int rateLimitPerMin;
  private final long ratePeriodMs;
  private final long profileTimeoutMs;
  private final long analyticsTimeoutMs;
  private final int maxRetries;
  private final long retryBaseDelayMs;
  private final long retryMaxDelayMs;
  private final int breakerMaxFailures;
  private final long breakerResetMs;
  private final int maxLinkPages;
  private final double foregroundReserve;
  private final double refreshReserve;
  private final long heartbeatMs;
  private final int maxInstances;
  private final long localGrantMs;
  private final FirstSightOptions firstSight;

  public LinktreeOptions(JsonObject json) {
    this(Settings.of(json));
  }

  LinktreeOptions(Settings s) {
    this.apiBase = s.httpUrl("apiBase");
    this.token = Secret.of(s.string("token", null));
    this.rateLimitPerMin = s.intIn("rateLimitPerMin", DEFAULT_RATE_LIMIT_PER_MIN, 1, 100_000);
    this.ratePeriodMs = s.longIn("ratePeriodMs", DEFAULT_RATE_PERIOD_MS, 100, 3_600_000);
    this.profileTimeoutMs = s.longIn("profileTimeoutMs", DEFAULT_PROFILE_TIMEOUT_MS, 1, 120_000);
    this.analyticsTimeoutMs = s.longIn("analyticsTimeoutMs", DEFAULT_ANALYTICS_TIMEOUT_MS, 1, 300_000);
    this.maxRetries = s.intIn("maxRetries", DEFAULT_MAX_RETRIES, 0, 10);
    this.retryBaseDelayMs = s.longIn("retryBaseDelayMs", DEFAULT_RETRY_BASE_DELAY_MS, 1, 60_000);
    this.retryMaxDelayMs = s.longIn("retryMaxDelayMs", DEFAULT_RETRY_MAX_DELAY_MS, 1, 600_000);
    this.breakerMaxFailures = s.intIn("breakerMaxFailures", DEFAULT_BREAKER_MAX_FAILURES, 1, 1000);
    this.breakerResetMs = s.longIn("breakerResetMs", DEFAULT_BREAKER_RESET_MS, 10, 3_600_000);
    this.maxLinkPages = s.intIn("maxLinkPages", DEFAULT_MAX_LINK_PAGES, 1, 1000);
    this.foregroundReserve = s.doubleIn("foregroundReserve", DEFAULT_FOREGROUND_RESERVE, 0.0, 0.9);
    this.refreshReserve = s.doubleIn("refreshReserve", DEFAULT_REFRESH_RESERVE, 0.0, 0.9);
    if (foregroundReserve + refreshReserve >= 1.0) {
      throw s.invalid("refreshReserve", "foregroundReserve + refreshReserve must leave some budget for background refreshes");
    }
    this.heartbeatMs = s.longIn("heartbeatMs", DEFAULT_HEARTBEAT_MS, 50, 60_000);
    this.maxInstances = s.intIn("maxInstances", DEFAULT_MAX_INSTANCES, 1, 10_000);
    this.localGrantMs = s.longIn("localGrantMs", DEFAULT_LOCAL_GRANT_MS, 0, 3_600_000);
    this.firstSight = new FirstSightOptions(s.section("firstSight"));
  }

  /** Upstream base URL, or {@code null} when the in-process sandbox should play Linktree. */
  public String apiBase() { return apiBase; }
  public Secret token() { return token; }
  public int rateLimitPerMin() { return rateLimitPerMin; }
  public long ratePeriodMs() { return ratePeriodMs; }
  public long profileTimeoutMs() { return profileTimeoutMs; }
  public long analyticsTimeoutMs() { return analyticsTimeoutMs; }
  public int maxRetries() { return maxRetries; }
  public long retryBaseDelayMs() { return retryBaseDelayMs; }
  public long retryMaxDelayMs() { return retryMaxDelayMs; }
  public int breakerMaxFailures() { return breakerMaxFailures; }
  public long breakerResetMs() { return breakerResetMs; }
  public int maxLinkPages() { return maxLinkPages; }
  public double foregroundReserve() { return foregroundReserve; }
  public double refreshReserve() { return refreshReserve; }
  public long heartbeatMs() { return heartbeatMs; }
  public int maxInstances() { return maxInstances; }
  public long localGrantMs() { return localGrantMs; }
  public FirstSightOptions firstSight() { return firstSight; }

  /** A copy aimed at another base URL and token (used when the in-process sandbox starts). */
  public LinktreeOptions withUpstream(String base, String newToken) {
    JsonObject j = toJson().put("apiBase", base).put("token", newToken);
    return new LinktreeOptions(j);
  }

  /** JSON form; the token is never included. */
  public JsonObject toJson() {
    return new JsonObject().put("apiBase", apiBase).put("rateLimitPerMin", rateLimitPerMin)
      .put("ratePeriodMs", ratePeriodMs).put("profileTimeoutMs", profileTimeoutMs)
      .put("analyticsTimeoutMs", analyticsTimeoutMs).put("maxRetries", maxRetries)
      .put("retryBaseDelayMs", retryBaseDelayMs).put("retryMaxDelayMs", retryMaxDelayMs)
      .put("breakerMaxFailures", breakerMaxFailures).put("breakerResetMs", breakerResetMs)
      .put("maxLinkPages", maxLinkPages).put("foregroundReserve", foregroundReserve)
      .put("refreshReserve", refreshReserve).put("heartbeatMs", heartbeatMs).put("maxInstances", maxInstances)
      .put("localGrantMs", localGrantMs).put("firstSight", firstSight.toJson());
  }
}
