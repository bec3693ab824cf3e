package dev.biogate.config;

import io.vertx.core.json.JsonObject;

/**
 * Freshness windows and sizes of the profile cache tiers. An entry of age {@code a} is fresh while
 * {@code a < freshTtl}; then served stale while one background refresh runs until
 * {@code freshTtl + staleWhileRevalidate}; after that it is only served when the upstream fails, until
 * {@code freshTtl + staleWhileRevalidate + staleIfError}, when it is dropped.
 */
public record CacheOptions(long freshTtlMs, long staleWhileRevalidateMs, long staleIfErrorMs, long negativeTtlMs,
                           long l1MaxBytes, long lockTtlMs, long lockWaitMs, long lockPollMs, long staleIfSlowMs,
                           long derivedMaxBytes) {

  public static final long DEFAULT_FRESH_TTL_MS = 60_000;
  public static final long DEFAULT_STALE_WHILE_REVALIDATE_MS = 300_000;
  public static final long DEFAULT_STALE_IF_ERROR_MS = 86_400_000;
  public static final long DEFAULT_NEGATIVE_TTL_MS = 30_000;
  public static final long DEFAULT_L1_MAX_BYTES = 256L * 1024 * 1024;
  /** Longer than one upstream profile fetch with its retries, so a live fetcher never loses its lock. */
  public static final long DEFAULT_LOCK_TTL_MS = 15_000;
  /** How long an instance that lost the fetch lock waits for the winner's copy to land in L2. */
  public static final long DEFAULT_LOCK_WAIT_MS = 5_000;
  public static final long DEFAULT_LOCK_POLL_MS = 50;
  /**
   * How long a reader holding a copy stale-if-error may serve waits for the upstream before it is answered with that
   * copy (the fetch goes on); 0 waits for the fetch's outcome, retries included.
   */
  public static final long DEFAULT_STALE_IF_SLOW_MS = 1_000;

  /**
   * Heap kept in what the colder paths derive from cached copies (redirect targets and decoded links, half each);
   * 0 = a sixteenth of the heap, at least 8 MiB.
   */
  public long derivedBytes(long maxHeap) {
    return derivedMaxBytes > 0 ? derivedMaxBytes : Math.max(8L << 20, maxHeap == Long.MAX_VALUE ? 128L << 20 : maxHeap / 16);
  }

  public CacheOptions(JsonObject json) {
    this(Settings.of(json));
  }

  CacheOptions(Settings s) {
    this(s.longIn("freshTtlMs", DEFAULT_FRESH_TTL_MS, 1, 86_400_000L),
      s.longIn("staleWhileRevalidateMs", DEFAULT_STALE_WHILE_REVALIDATE_MS, 0, 7 * 86_400_000L),
      s.longIn("staleIfErrorMs", DEFAULT_STALE_IF_ERROR_MS, 0, 30 * 86_400_000L),
      s.longIn("negativeTtlMs", DEFAULT_NEGATIVE_TTL_MS, 0, 86_400_000L),
      s.longIn("l1MaxBytes", DEFAULT_L1_MAX_BYTES, 1024, 64L * 1024 * 1024 * 1024),
      s.longIn("lockTtlMs", DEFAULT_LOCK_TTL_MS, 100, 600_000),
      s.longIn("lockWaitMs", DEFAULT_LOCK_WAIT_MS, 0, 600_000),
      s.longIn("lockPollMs", DEFAULT_LOCK_POLL_MS, 1, 10_000),
      s.longIn("staleIfSlowMs", DEFAULT_STALE_IF_SLOW_MS, 0, 600_000),
      s.longIn("derivedMaxBytes", 0, 0, 64L * 1024 * 1024 * 1024));
  }

  /** How long a good copy is kept at all: past this it can no longer be served, even on error. */
  public long retentionMs() {
    return freshTtlMs + staleWhileRevalidateMs + staleIfErrorMs;
  }

  public JsonObject toJson() {
    return new JsonObject().put("freshTtlMs", freshTtlMs).put("staleWhileRevalidateMs", staleWhileRevalidateMs)
      .put("staleIfErrorMs", staleIfErrorMs).put("negativeTtlMs", negativeTtlMs).put("l1MaxBytes", l1MaxBytes)
      .put("lockTtlMs", lockTtlMs).put("lockWaitMs", lockWaitMs).put("lockPollMs", lockPollMs)
      .put("staleIfSlowMs", staleIfSlowMs).put("derivedMaxBytes", derivedMaxBytes);
  }
}
