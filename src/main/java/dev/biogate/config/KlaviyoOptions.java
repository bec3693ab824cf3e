package dev.biogate.config;

import io.vertx.core.json.JsonObject;

/**
 * The Klaviyo sink: click events become Klaviyo events. Off unless {@code KLAVIYO_ENABLED=true}.
 * Limits follow Klaviyo's production checklist: a 75 req/s burst cap shared by every instance, {@code Retry-After}
 * honoured on 429, 5xx retried with exponential backoff, a circuit breaker for outages, and 401/403 treated as a
 * key problem (the sink pauses instead of retrying).
 *
 * <p>{@link #apiBase()} defaults to the production API; {@link #apiBaseConfigured()} tells whether an operator chose
 * one, so a zero-config launcher can aim an enabled sink at the in-process sandbox with {@link #withApi}.
 */
public final class KlaviyoOptions {

  public static final String DEFAULT_API_BASE = "https://a.klaviyo.com";
  public static final String DEFAULT_REVISION = "2024-10-15";
  public static final String DEFAULT_METRIC = "Link Clicked";
  public static final int DEFAULT_RATE_PER_SEC = 75;
  public static final int DEFAULT_MAX_ATTEMPTS = 5;
  public static final long DEFAULT_RETRY_BASE_MS = 500;
  public static final long DEFAULT_RETRY_MAX_MS = 30_000;
  public static final int DEFAULT_BREAKER_MAX_FAILURES = 5;
  public static final long DEFAULT_BREAKER_RESET_MS = 30_000;
  public static final long DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
  public static final int DEFAULT_CONCURRENCY = 16;
  public static final long DEFAULT_AUTH_PROBE_MS = 60_000;
  public static final long DEFAULT_SENT_TTL_S = 7 * 86_400L;

  private final boolean enabled;
  private final Secret privateKey;
  private final String apiBase;
  private final boolean apiBaseConfigured;
  private final String revision;
  private final String metric;
  private final int ratePerSec;
  private final int maxAttempts;
  private final long retryBaseMs;
  private final long retryMaxMs;
  private final int breakerMaxFailures;
  private final long breakerResetMs;
  private final long requestTimeoutMs;
  private final int concurrency;
  private final long authProbeMs;
  private final long sentTtlS;

  public KlaviyoOptions(JsonObject json) {
    this(Settings.of(json));
  }

  KlaviyoOptions(Settings s) {
    this.enabled = s.bool("enabled", false);
    this.privateKey = Secret.of(s.string("privateKey", null));
    String base = s.httpUrl("apiBase");
    this.apiBaseConfigured = base != null;
    this.apiBase = base == null ? DEFAULT_API_BASE : base;
    this.revision = s.string("revision", DEFAULT_REVISION);
    this.metric = s.string("metric", DEFAULT_METRIC);
    this.ratePerSec = s.intIn("ratePerSec", DEFAULT_RATE_PER_SEC, 1, 10_000);
    this.maxAttempts = s.intIn("maxAttempts", DEFAULT_MAX_ATTEMPTS, 1, 100);
    this.retryBaseMs = s.longIn("retryBaseMs", DEFAULT_RETRY_BASE_MS, 1, 600_000);
    this.retryMaxMs = s.longIn("retryMaxMs", DEFAULT_RETRY_MAX_MS, 1, 3_600_000);
    this.breakerMaxFailures = s.intIn("breakerMaxFailures", DEFAULT_BREAKER_MAX_FAILURES, 1, 1000);
    this.breakerResetMs = s.longIn("breakerResetMs", DEFAULT_BREAKER_RESET_MS, 10, 3_600_000);
    this.requestTimeoutMs = s.longIn("requestTimeoutMs", DEFAULT_REQUEST_TIMEOUT_MS, 1, 120_000);
    this.concurrency = s.intIn("concurrency", DEFAULT_CONCURRENCY, 1, 1000);
    this.authProbeMs = s.longIn("authProbeMs", DEFAULT_AUTH_PROBE_MS, 10, 86_400_000L);
    this.sentTtlS = s.longIn("sentTtlS", DEFAULT_SENT_TTL_S, 60, 365 * 86_400L);
    if (enabled && apiBaseConfigured && privateKey == null) {
      throw s.invalid("privateKey", "is required when the Klaviyo sink is enabled");
    }
  }

  /** Feature flag: disabled means no consumer group is read and nothing is sent. */
  public boolean enabled() { return enabled; }
  /** The private API key; {@code null} when none is configured. */
  public Secret privateKey() { return privateKey; }
  public String apiBase() { return apiBase; }
  public boolean apiBaseConfigured() { return apiBaseConfigured; }
  /** The {@code revision} header sent with every request. */
  public String revision() { return revision; }
  /** The Klaviyo metric name clicks are recorded under. */
  public String metric() { return metric; }
  /** Requests per second, cluster-wide (shared Redis limiter, budget {@code klaviyo}). */
  public int ratePerSec() { return ratePerSec; }
  /** Failed attempts (5xx, timeouts) before an event goes to the dead-letter stream. */
  public int maxAttempts() { return maxAttempts; }
  public long retryBaseMs() { return retryBaseMs; }
  public long retryMaxMs() { return retryMaxMs; }
  public int breakerMaxFailures() { return breakerMaxFailures; }
  public long breakerResetMs() { return breakerResetMs; }
  public long requestTimeoutMs() { return requestTimeoutMs; }
  /** Events in flight per instance. */
  public int concurrency() { return concurrency; }
  /** While paused on 401/403, how often the key is re-checked ({@code GET /api/accounts/}). */
  public long authProbeMs() { return authProbeMs; }
  /** How long a delivered event id is remembered, so a repeated stream entry is not sent twice. */
  public long sentTtlS() { return sentTtlS; }

  /** A copy aimed at another API base with another key (the launcher's in-process sandbox). */
  public KlaviyoOptions withApi(String base, String key) {
    return new KlaviyoOptions(toJson().put("apiBase", base).put("privateKey", key));
  }

  /** JSON form; the key is never included, only whether one is set. */
  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("enabled", enabled).put("revision", revision).put("metric", metric)
      .put("ratePerSec", ratePerSec).put("maxAttempts", maxAttempts).put("retryBaseMs", retryBaseMs)
      .put("retryMaxMs", retryMaxMs).put("breakerMaxFailures", breakerMaxFailures).put("breakerResetMs", breakerResetMs)
      .put("requestTimeoutMs", requestTimeoutMs).put("concurrency", concurrency).put("authProbeMs", authProbeMs)
      .put("sentTtlS", sentTtlS).put("privateKeySet", privateKey != null);
    if (apiBaseConfigured) {
      j.put("apiBase", apiBase);
    }
    return j;
  }
}
