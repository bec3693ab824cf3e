package dev.biogate.config;

import io.vertx.core.json.JsonObject;

/**
 * Click recording and analytics. The journal ({@code journal.path}) is where click events go while Redis is
 * unreachable; it is group-committed: appends are written at once (a process crash loses nothing that was written)
 * and fsynced every {@code journal.fsyncIntervalMs} (a power loss or kernel crash can lose at most that much);
 * {@code 0} fsyncs every append batch, trading throughput for that last window.
 *
 * <p>Retention is per bucket size: minute buckets are kept {@code minuteRetentionS}, hour buckets
 * {@code hourRetentionS}, day buckets {@code dayRetentionS} after the bucket starts. A click is counted once per event
 * id while its marker lives ({@code dedupeTtlS}): longer than any journal replay or stream redelivery is expected to
 * take.
 *
 * @param journalPath the journal file; another instance on the same host holding its lock makes this one use
 *                    {@code <path>.<n>}
 * @param fsyncIntervalMs group-commit interval for the journal; 0 = fsync each append batch
 * @param orphanScanMs how often the journal directory is scanned for journals of instances that are gone
 * @param redisTimeoutMs how long a click write to Redis may take before the events are journaled instead
 * @param probeMs how often Redis is probed while clicks are being journaled
 * @param streamMaxLen the clicks stream's backlog ceiling (entries not yet finished by every consumer group): at it,
 *                     clicks are journaled locally instead and replayed once the consumers catch up. Nothing is ever
 *                     trimmed unhandled.
 * @param heartbeatTtlMs a consumer whose heartbeat is older than this is dead: its click entries are claimed by
 *                       another instance
 * @param claimIdleMs a click entry a live instance keeps without attempting it this long is taken over by another
 *                    instance
 * @param claimIntervalMs how often dead consumers of the click streams (and idle kept entries) are looked for
 * @param maxQueries analytics queries one instance answers at once; past it, {@code 503 busy} with {@code Retry-After}
 * @param clicks what counts as a click (see {@link ClickOptions})
 */
public record AnalyticsOptions(String journalPath, long fsyncIntervalMs, long orphanScanMs, long redisTimeoutMs, long probeMs,
                               int batchSize, long streamMaxLen, long heartbeatTtlMs, int readCount, long pollMs,
                               long claimIdleMs, long claimIntervalMs, long dedupeTtlS, long minuteRetentionS,
                               long hourRetentionS, long dayRetentionS, long queryTimeoutMs, int maxBuckets,
                               int maxQueries, ClickOptions clicks) {

  public static final String DEFAULT_JOURNAL_PATH = "./data/clicks.journal";
  public static final long DEFAULT_FSYNC_INTERVAL_MS = 200;
  public static final long DEFAULT_REDIS_TIMEOUT_MS = 1_000;
  public static final long DEFAULT_PROBE_MS = 500;
  public static final int DEFAULT_BATCH_SIZE = 500;
  public static final long DEFAULT_STREAM_MAX_LEN = 1_000_000;
  public static final int DEFAULT_READ_COUNT = 1_000;
  public static final long DEFAULT_POLL_MS = 100;
  public static final long DEFAULT_CLAIM_IDLE_MS = 30_000;
  public static final long DEFAULT_CLAIM_INTERVAL_MS = 1_000;
  /**
   * A day: longer than a stream's retries (minutes) and a journal's replay after an outage; each counted click keeps a
   * marker this long, so a week of markers was ~360 MB under one client address following links at its redirect rate.
   */
  public static final long DEFAULT_DEDUPE_TTL_S = 86_400L;
  public static final long DEFAULT_HEARTBEAT_TTL_MS = 3_000;
  public static final long DEFAULT_ORPHAN_SCAN_MS = 10_000;
  public static final long DEFAULT_MINUTE_RETENTION_S = 8 * 86_400L;
  public static final long DEFAULT_HOUR_RETENTION_S = 400 * 86_400L;
  public static final long DEFAULT_DAY_RETENTION_S = 5 * 366 * 86_400L;
  public static final long DEFAULT_QUERY_TIMEOUT_MS = 30_000;
  public static final int DEFAULT_MAX_BUCKETS = 1440;
  public static final int DEFAULT_MAX_QUERIES = 64;

  public AnalyticsOptions(JsonObject json) {
    this(Settings.of(json));
  }

  AnalyticsOptions(Settings s) {
    this(s.section("journal").string("path", DEFAULT_JOURNAL_PATH),
      s.section("journal").longIn("fsyncIntervalMs", DEFAULT_FSYNC_INTERVAL_MS, 0, 60_000),
      s.section("journal").longIn("orphanScanMs", DEFAULT_ORPHAN_SCAN_MS, 10, 3_600_000L),
      s.longIn("redisTimeoutMs", DEFAULT_REDIS_TIMEOUT_MS, 10, 60_000),
      s.longIn("probeMs", DEFAULT_PROBE_MS, 10, 60_000),
      s.intIn("batchSize", DEFAULT_BATCH_SIZE, 1, 10_000),
      s.longIn("streamMaxLen", DEFAULT_STREAM_MAX_LEN, 1, 1_000_000_000L),
      s.longIn("heartbeatTtlMs", DEFAULT_HEARTBEAT_TTL_MS, 100, 60_000),
      s.intIn("readCount", DEFAULT_READ_COUNT, 1, 10_000),
      s.longIn("pollMs", DEFAULT_POLL_MS, 1, 60_000),
      s.longIn("claimIdleMs", DEFAULT_CLAIM_IDLE_MS, 100, 86_400_000L),
      s.longIn("claimIntervalMs", DEFAULT_CLAIM_INTERVAL_MS, 10, 3_600_000L),
      s.longIn("dedupeTtlS", DEFAULT_DEDUPE_TTL_S, 60, 365 * 86_400L),
      s.longIn("minuteRetentionS", DEFAULT_MINUTE_RETENTION_S, 3600, 3650 * 86_400L),
      s.longIn("hourRetentionS", DEFAULT_HOUR_RETENTION_S, 3600, 3650 * 86_400L),
      s.longIn("dayRetentionS", DEFAULT_DAY_RETENTION_S, 86_400, 36_500 * 86_400L),
      s.longIn("queryTimeoutMs", DEFAULT_QUERY_TIMEOUT_MS, 1, 300_000),
      s.intIn("maxBuckets", DEFAULT_MAX_BUCKETS, 1, 100_000),
      s.intIn("maxQueries", DEFAULT_MAX_QUERIES, 1, 10_000),
      new ClickOptions(s.section("clicks")));
    if (streamMaxLen < batchSize) {
      throw s.invalid("streamMaxLen", "must hold at least one batch (batchSize " + batchSize + ")");
    }
  }

  public JsonObject toJson() {
    return new JsonObject()
      .put("journal", new JsonObject().put("path", journalPath).put("fsyncIntervalMs", fsyncIntervalMs).put("orphanScanMs", orphanScanMs))
      .put("redisTimeoutMs", redisTimeoutMs).put("probeMs", probeMs).put("batchSize", batchSize)
      .put("streamMaxLen", streamMaxLen).put("readCount", readCount).put("pollMs", pollMs)
      .put("claimIdleMs", claimIdleMs).put("claimIntervalMs", claimIntervalMs).put("dedupeTtlS", dedupeTtlS)
      .put("heartbeatTtlMs", heartbeatTtlMs)
      .put("minuteRetentionS", minuteRetentionS).put("hourRetentionS", hourRetentionS).put("dayRetentionS", dayRetentionS)
      .put("queryTimeoutMs", queryTimeoutMs).put("maxBuckets", maxBuckets).put("maxQueries", maxQueries).put("clicks", clicks.toJson());
  }
}
