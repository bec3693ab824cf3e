package dev.biogate.config;

import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Inbound webhooks and their durable processing. A provider without secrets is disabled: its endpoint answers
 * 503 rather than accepting unsigned deliveries.
 *
 * <p>Window sizes follow Linktree's retry schedule: 5 retries (10 s, 30 s, 90 s, 270 s, 810 s) and the webhook is
 * disabled after 72 h of failures. The timestamp tolerance covers that horizon (73 h), and the dedupe window
 * (7 days) is longer than the tolerance, so any replay a verifier still accepts is caught as a duplicate.
 *
 * @param linktreeSecrets Linktree signing secrets, current first; empty = endpoint disabled (503)
 * @param linkmeSecrets LinkMe signing secrets; empty = endpoint disabled (503)
 * @param klaviyoSecrets Klaviyo system-webhook signing secrets; empty = endpoint disabled (503)
 * @param linkmeEnabled feature flag: LinkMe ingestion can be switched off without removing its secret
 * @param maxAttempts handling attempts before an event goes to the dead-letter stream
 * @param claimIdleMs an event a live instance keeps without attempting it this long is taken over by another instance
 * @param streamMaxLen the events stream's backlog ceiling (entries): it holds only unfinished work, and at this many
 *                     entries new deliveries are answered 503 with Retry-After instead of queued. Nothing is ever
 *                     trimmed unhandled. Also the ceiling of each shard's dead letters (the whole value, not a share),
 *                     which are never trimmed: at it, an event due for them stays on its shard and is tried again later.
 * @param shards ingest shards (webhook and click streams, each with its own hash tag); the same on every instance
 * @param heartbeatTtlMs an instance whose stream heartbeat is older than this is dead: its events are claimed by
 *                       another instance
 * @param replicaWait durable acknowledgement: {@code on} waits for one replica ({@code WAIT 1 replicaWaitMs}) before
 *                    answering 200, {@code off} never, {@code auto} (default) whenever the Redis master reports a
 *                    connected replica
 * @param replicaWaitMs how long a delivery waits for a replica before it is answered 503 (the provider retries)
 * @param replicaLossHoldMs under {@code auto}: how long deliveries to a master that had a replica and has none in sync
 *                          (a replica lost or resyncing, a replica just promoted) are answered 503 before that master
 *                          is trusted alone; 0 = at once
 * @param maxBufferedBytes webhook body bytes this instance holds in memory at once, counted as they arrive (a body in
 *                         several chunks by the array holding them, at most 1.5 times its bytes); 0 = an eighth
 *                         of the heap, at least 16 MiB
 * @param slowBodyMs a body still arriving this long after its head gives way, when the budget is full, to a delivery
 *                   that needs its room (answered 503, the sender retries)
 */
public record WebhookOptions(List<Secret> linktreeSecrets, List<Secret> linkmeSecrets, boolean linkmeEnabled,
                             List<Secret> klaviyoSecrets, long pastToleranceS, long futureToleranceS, long dedupeWindowS,
                             int maxBodyBytes, int maxAttempts, long retryBaseMs, long claimIdleMs, long streamMaxLen,
                             int shards, long heartbeatTtlMs, String replicaWait, long replicaWaitMs, long replicaLossHoldMs,
                             long maxBufferedBytes, long slowBodyMs) {

  public static final long DEFAULT_PAST_TOLERANCE_S = 73 * 3600;
  public static final long DEFAULT_FUTURE_TOLERANCE_S = 300;
  public static final long DEFAULT_DEDUPE_WINDOW_S = 7 * 86_400;
  public static final int DEFAULT_MAX_BODY_BYTES = 256 * 1024;
  public static final int DEFAULT_MAX_ATTEMPTS = 5;
  public static final long DEFAULT_RETRY_BASE_MS = 1_000;
  public static final long DEFAULT_CLAIM_IDLE_MS = 30_000;
  public static final long DEFAULT_STREAM_MAX_LEN = 1_000_000;
  public static final long DEFAULT_HEARTBEAT_TTL_MS = 3_000;
  public static final String DEFAULT_REPLICA_WAIT = "auto";
  public static final long DEFAULT_REPLICA_WAIT_MS = 1_000;
  public static final long DEFAULT_REPLICA_LOSS_HOLD_MS = 30_000;
  public static final int DEFAULT_SHARDS = 16;
  public static final long DEFAULT_SLOW_BODY_MS = 1_000;

  public WebhookOptions(JsonObject json) {
    this(Settings.of(json));
  }

  WebhookOptions(Settings s) {
    this(secrets(s.section("linktree").nonEmptyList("secrets")),
      secrets(s.section("linkme").nonEmptyList("secrets")),
      s.section("linkme").bool("enabled", true),
      secrets(s.section("klaviyo").nonEmptyList("secrets")),
      s.longIn("pastToleranceS", DEFAULT_PAST_TOLERANCE_S, 0, 30 * 86_400L),
      s.longIn("futureToleranceS", DEFAULT_FUTURE_TOLERANCE_S, 0, 86_400L),
      s.longIn("dedupeWindowS", DEFAULT_DEDUPE_WINDOW_S, 72 * 3600L, 365 * 86_400L),
      s.intIn("maxBodyBytes", DEFAULT_MAX_BODY_BYTES, 1024, 16 * 1024 * 1024),
      s.intIn("maxAttempts", DEFAULT_MAX_ATTEMPTS, 1, 100),
      s.longIn("retryBaseMs", DEFAULT_RETRY_BASE_MS, 1, 3_600_000),
      s.longIn("claimIdleMs", DEFAULT_CLAIM_IDLE_MS, 100, 3_600_000),
      s.longIn("streamMaxLen", DEFAULT_STREAM_MAX_LEN, 1, 1_000_000_000L),
      s.intIn("shards", DEFAULT_SHARDS, 1, 1024),
      s.longIn("heartbeatTtlMs", DEFAULT_HEARTBEAT_TTL_MS, 100, 60_000),
      s.string("replicaWait", DEFAULT_REPLICA_WAIT),
      s.longIn("replicaWaitMs", DEFAULT_REPLICA_WAIT_MS, 1, 60_000),
      s.longIn("replicaLossHoldMs", DEFAULT_REPLICA_LOSS_HOLD_MS, 0, 3_600_000),
      s.longIn("maxBufferedBytes", 0, 0, 1L << 40),
      s.longIn("slowBodyMs", DEFAULT_SLOW_BODY_MS, 100, 600_000));
    if (s.has("alerts")) {
      throw s.invalid("alerts", "was removed: milestones go to outbound destinations; add an entry to destinations.endpoints "
        + "with \"events\": [\"linktree.analytics.milestone\"] and its url and secret (see the README, Outbound destinations)");
    }
    if (dedupeWindowS <= pastToleranceS + futureToleranceS) {
      throw s.invalid("dedupeWindowS", "must be longer than the timestamp tolerance (" + (pastToleranceS + futureToleranceS) + " s)");
    }
    if (!List.of("auto", "on", "off").contains(replicaWait)) {
      throw s.invalid("replicaWait", "must be auto, on or off");
    }
  }

  private static List<Secret> secrets(List<String> raw) {
    return raw.stream().map(Secret::of).toList();
  }

  /** JSON form without secrets (only how many are configured). */
  public JsonObject toJson() {
    return new JsonObject().put("linktreeSecrets", linktreeSecrets.size()).put("linkmeSecrets", linkmeSecrets.size())
      .put("klaviyoSecrets", klaviyoSecrets.size())
      .put("linkmeEnabled", linkmeEnabled).put("pastToleranceS", pastToleranceS).put("futureToleranceS", futureToleranceS)
      .put("dedupeWindowS", dedupeWindowS).put("maxBodyBytes", maxBodyBytes).put("maxAttempts", maxAttempts)
      .put("retryBaseMs", retryBaseMs).put("claimIdleMs", claimIdleMs).put("streamMaxLen", streamMaxLen).put("shards", shards)
      .put("heartbeatTtlMs", heartbeatTtlMs).put("replicaWait", replicaWait).put("replicaWaitMs", replicaWaitMs)
      .put("replicaLossHoldMs", replicaLossHoldMs)
      .put("maxBufferedBytes", maxBufferedBytes).put("slowBodyMs", slowBodyMs);
  }
}
