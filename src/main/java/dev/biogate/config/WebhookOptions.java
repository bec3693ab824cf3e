package dev.biogate.config;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * Inbound webhooks and their durable processing. A provider without secrets is disabled: its endpoint answers
 * 503 rather than accepting unsigned deliveries.
 *
 * <p>Window sizes follow Linktree's retry schedule: 5 retries (10 s, 30 s, 90 s, 270 s, 810 s) and the webhook is
 * disabled after 72 h of failures. The timestamp tolerance covers that horizon (73 h), and the dedupe window
 * (7 days) is longer than the tolerance, so any replay a verifier still accepts is caught as a duplicate.
 */
public final class WebhookOptions {

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
  public static final int DEFAULT_SHARDS = 16;

  private final List<Secret> linktreeSecrets;
  private final List<Secret> linkmeSecrets;
  private final List<Secret> klaviyoSecrets;
  private final boolean linkmeEnabled;
  private final long pastToleranceS;
  private final long futureToleranceS;
  private final long dedupeWindowS;
  private final int maxBodyBytes;
  private final int maxAttempts;
  private final long retryBaseMs;
  private final long claimIdleMs;
  private final long streamMaxLen;
  private final int shards;
  private final long heartbeatTtlMs;
  private final String replicaWait;
  private final long replicaWaitMs;

  public WebhookOptions(JsonObject json) {
    this(Settings.of(json));
  }

  WebhookOptions(Settings s) {
    this.linktreeSecrets = secrets(s.section("linktree").list("secrets"));
    Settings linkme = s.section("linkme");
    this.linkmeSecrets = secrets(linkme.list("secrets"));
    this.linkmeEnabled = linkme.bool("enabled", true);
    this.klaviyoSecrets = secrets(s.section("klaviyo").list("secrets"));
    this.pastToleranceS = s.longIn("pastToleranceS", DEFAULT_PAST_TOLERANCE_S, 0, 30 * 86_400L);
    this.futureToleranceS = s.longIn("futureToleranceS", DEFAULT_FUTURE_TOLERANCE_S, 0, 86_400L);
    this.dedupeWindowS = s.longIn("dedupeWindowS", DEFAULT_DEDUPE_WINDOW_S, 72 * 3600L, 365 * 86_400L);
    if (dedupeWindowS <= pastToleranceS + futureToleranceS) {
      throw s.invalid("dedupeWindowS", "must be longer than the timestamp tolerance (" + (pastToleranceS + futureToleranceS) + " s)");
    }
    this.maxBodyBytes = s.intIn("maxBodyBytes", DEFAULT_MAX_BODY_BYTES, 1024, 16 * 1024 * 1024);
    this.maxAttempts = s.intIn("maxAttempts", DEFAULT_MAX_ATTEMPTS, 1, 100);
    this.retryBaseMs = s.longIn("retryBaseMs", DEFAULT_RETRY_BASE_MS, 1, 3_600_000);
    this.claimIdleMs = s.longIn("claimIdleMs", DEFAULT_CLAIM_IDLE_MS, 100, 3_600_000);
    this.streamMaxLen = s.longIn("streamMaxLen", DEFAULT_STREAM_MAX_LEN, 1, 1_000_000_000L);
    this.shards = s.intIn("shards", DEFAULT_SHARDS, 1, 1024);
    this.heartbeatTtlMs = s.longIn("heartbeatTtlMs", DEFAULT_HEARTBEAT_TTL_MS, 100, 60_000);
    this.replicaWait = s.string("replicaWait", DEFAULT_REPLICA_WAIT);
    if (!List.of("auto", "on", "off").contains(replicaWait)) {
      throw s.invalid("replicaWait", "must be auto, on or off");
    }
    this.replicaWaitMs = s.longIn("replicaWaitMs", DEFAULT_REPLICA_WAIT_MS, 1, 60_000);
    if (s.has("alerts")) {
      throw s.invalid("alerts", "was removed: milestones go to outbound destinations; add an entry to destinations.endpoints "
        + "with \"events\": [\"linktree.analytics.milestone\"] and its url and secret (see the README, Outbound destinations)");
    }
  }

  private static List<Secret> secrets(List<String> raw) {
    List<Secret> out = new ArrayList<>();
    raw.forEach(r -> out.add(Secret.of(r)));
    return List.copyOf(out);
  }

  /** Linktree signing secrets, current first; empty = endpoint disabled (503). */
  public List<Secret> linktreeSecrets() { return linktreeSecrets; }
  /** LinkMe signing secrets; empty = endpoint disabled (503). */
  public List<Secret> linkmeSecrets() { return linkmeSecrets; }
  /** Klaviyo system-webhook signing secrets; empty = endpoint disabled (503). */
  public List<Secret> klaviyoSecrets() { return klaviyoSecrets; }
  /** Feature flag: LinkMe ingestion can be switched off without removing its secret. */
  public boolean linkmeEnabled() { return linkmeEnabled; }
  public long pastToleranceS() { return pastToleranceS; }
  public long futureToleranceS() { return futureToleranceS; }
  public long dedupeWindowS() { return dedupeWindowS; }
  public int maxBodyBytes() { return maxBodyBytes; }
  /** Handling attempts before an event goes to the dead-letter stream. */
  public int maxAttempts() { return maxAttempts; }
  public long retryBaseMs() { return retryBaseMs; }
  /** An event a live instance keeps without attempting it this long is taken over by another instance. */
  public long claimIdleMs() { return claimIdleMs; }
  /**
   * The events stream's backlog ceiling (entries): it holds only unfinished work, and at this many entries new
   * deliveries are answered 503 with Retry-After instead of queued. Nothing is ever trimmed unhandled.
   */
  public long streamMaxLen() { return streamMaxLen; }
  /** Ingest shards (webhook and click streams, each with its own hash tag); the same on every instance. */
  public int shards() { return shards; }
  /** An instance whose stream heartbeat is older than this is dead: its events are claimed by another instance. */
  public long heartbeatTtlMs() { return heartbeatTtlMs; }
  /**
   * Durable acknowledgement: {@code on} waits for one replica ({@code WAIT 1 replicaWaitMs}) before answering 200,
   * {@code off} never, {@code auto} (default) whenever the Redis master reports a connected replica.
   */
  public String replicaWait() { return replicaWait; }
  /** How long a delivery waits for a replica before it is answered 503 (the provider retries). */
  public long replicaWaitMs() { return replicaWaitMs; }

  /** JSON form without secrets (only how many are configured). */
  public JsonObject toJson() {
    return new JsonObject().put("linktreeSecrets", linktreeSecrets.size()).put("linkmeSecrets", linkmeSecrets.size())
      .put("klaviyoSecrets", klaviyoSecrets.size())
      .put("linkmeEnabled", linkmeEnabled).put("pastToleranceS", pastToleranceS).put("futureToleranceS", futureToleranceS)
      .put("dedupeWindowS", dedupeWindowS).put("maxBodyBytes", maxBodyBytes).put("maxAttempts", maxAttempts)
      .put("retryBaseMs", retryBaseMs).put("claimIdleMs", claimIdleMs).put("streamMaxLen", streamMaxLen).put("shards", shards)
      .put("heartbeatTtlMs", heartbeatTtlMs).put("replicaWait", replicaWait).put("replicaWaitMs", replicaWaitMs);
  }
}
