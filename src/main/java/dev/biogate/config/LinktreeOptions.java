package dev.biogate.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The upstream Linktree API and how the gateway spends it. Timeouts and limits follow the provider's
 * production checklist: 10 s profile reads, 90 requests/min client-side (below the hard 100),
 * breaker open after 5 consecutive failures.
 *
 * @param apiBase upstream base URL, or {@code null} when the in-process sandbox should play Linktree
 */
public record LinktreeOptions(String apiBase, Secret token, int rateLimitPerMin, long ratePeriodMs, long profileTimeoutMs,
                              int maxRetries, long retryBaseDelayMs, long retryMaxDelayMs, int breakerMaxFailures,
                              long breakerResetMs, int maxLinkPages, double foregroundReserve, double refreshReserve,
                              long heartbeatMs, int maxInstances, long localGrantMs, FirstSightOptions firstSight) {

  public static final int DEFAULT_RATE_LIMIT_PER_MIN = 90;
  public static final long DEFAULT_RATE_PERIOD_MS = 60_000;
  public static final long DEFAULT_PROFILE_TIMEOUT_MS = 10_000;
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

  public LinktreeOptions(JsonObject json) {
    this(Settings.of(json));
  }

  LinktreeOptions(Settings s) {
    this(s.httpUrl("apiBase"),
      Secret.of(s.string("token", null)),
      s.intIn("rateLimitPerMin", DEFAULT_RATE_LIMIT_PER_MIN, 1, 100_000),
      s.longIn("ratePeriodMs", DEFAULT_RATE_PERIOD_MS, 100, 3_600_000),
      s.longIn("profileTimeoutMs", DEFAULT_PROFILE_TIMEOUT_MS, 1, 120_000),
      s.intIn("maxRetries", DEFAULT_MAX_RETRIES, 0, 10),
      s.longIn("retryBaseDelayMs", DEFAULT_RETRY_BASE_DELAY_MS, 1, 60_000),
      s.longIn("retryMaxDelayMs", DEFAULT_RETRY_MAX_DELAY_MS, 1, 600_000),
      s.intIn("breakerMaxFailures", DEFAULT_BREAKER_MAX_FAILURES, 1, 1000),
      s.longIn("breakerResetMs", DEFAULT_BREAKER_RESET_MS, 10, 3_600_000),
      s.intIn("maxLinkPages", DEFAULT_MAX_LINK_PAGES, 1, 1000),
      s.doubleIn("foregroundReserve", DEFAULT_FOREGROUND_RESERVE, 0.0, 0.9),
      s.doubleIn("refreshReserve", DEFAULT_REFRESH_RESERVE, 0.0, 0.9),
      s.longIn("heartbeatMs", DEFAULT_HEARTBEAT_MS, 50, 60_000),
      s.intIn("maxInstances", DEFAULT_MAX_INSTANCES, 1, 10_000),
      s.longIn("localGrantMs", DEFAULT_LOCAL_GRANT_MS, 0, 3_600_000),
      new FirstSightOptions(s.section("firstSight")));
    if (foregroundReserve + refreshReserve >= 1.0) {
      throw s.invalid("refreshReserve", "foregroundReserve + refreshReserve must leave some budget for background refreshes");
    }
  }

  /** A copy aimed at another base URL and token (used when the in-process sandbox starts). */
  public LinktreeOptions withUpstream(String base, String newToken) {
    JsonObject j = toJson().put("apiBase", base).put("token", newToken);
    return new LinktreeOptions(j);
  }

  /** A copy whose first-sight settings also treat {@code names} as known (the sandbox's demo profiles). */
  public LinktreeOptions withKnownNames(List<String> names) {
    JsonObject j = toJson();
    JsonObject firstSight = j.getJsonObject("firstSight", new JsonObject());
    JsonArray known = firstSight.getJsonArray("known", new JsonArray()).copy();
    names.stream().filter(n -> !known.contains(n)).forEach(known::add);
    j.put("firstSight", firstSight.put("known", known)).put("token", token == null ? null : token.reveal());
    return new LinktreeOptions(j);
  }

  /** JSON form; the token is never included. */
  public JsonObject toJson() {
    return new JsonObject().put("apiBase", apiBase).put("rateLimitPerMin", rateLimitPerMin)
      .put("ratePeriodMs", ratePeriodMs).put("profileTimeoutMs", profileTimeoutMs)
      .put("maxRetries", maxRetries)
      .put("retryBaseDelayMs", retryBaseDelayMs).put("retryMaxDelayMs", retryMaxDelayMs)
      .put("breakerMaxFailures", breakerMaxFailures).put("breakerResetMs", breakerResetMs)
      .put("maxLinkPages", maxLinkPages).put("foregroundReserve", foregroundReserve)
      .put("refreshReserve", refreshReserve).put("heartbeatMs", heartbeatMs).put("maxInstances", maxInstances)
      .put("localGrantMs", localGrantMs).put("firstSight", firstSight.toJson());
  }
}
