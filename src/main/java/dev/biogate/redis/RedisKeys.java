package dev.biogate.redis;

/**
 * Every Redis key the gateway uses. Per-profile keys carry the username as a hash tag so that a profile's copy and
 * its fetch lock live in one Cluster slot; cluster-wide singletons (budget, streams) use the {@code {bg}} tag.
 */
public final class RedisKeys {

  /** Hash: link id → username of the cached profile holding it. */
  public static final String LINK_OWNERS = "bg:link-owners";

  /** Sorted set: the upstream budget's permit log (see redis/rate_limit.lua). */
  public static String budgetLog(String budget) {
    return "bg:budget:{" + budget + "}:log";
  }

  /** String: the upstream asked everyone to back off until this time (Redis TIME, microseconds). */
  public static String budgetBlocked(String budget) {
    return "bg:budget:{" + budget + "}:blocked";
  }

  /** Sorted set: instances sharing the budget, by last heartbeat. */
  public static String budgetInstances(String budget) {
    return "bg:budget:{" + budget + "}:instances";
  }

  /** The budget's other keys (roster details, the first-sight lane's log, ...): same hash tag, see redis/rate_limit.lua. */
  public static String budgetPart(String budget, String part) {
    return "bg:budget:{" + budget + "}:" + part;
  }

  /** String: the gateway has reason to know this name (fetched it, or a webhook named it); tagged by the username. */
  public static String knownName(String username) {
    return "bg:known:{" + username + "}";
  }

  /** String: one client's first-sight miss quota (token bucket, redis/miss_quota.lua); tagged by the client key. */
  public static String missQuota(String client) {
    return "bg:missq:{" + client + "}";
  }

  private RedisKeys() {
  }

  public static String profile(String username) {
    return "bg:profile:{" + username + "}";
  }

  /** The version of the profile's shared copy (see redis/profile_write.lua); outlives the copy as a tombstone. */
  public static String profileVersion(String username) {
    return "bg:profile:{" + username + "}:version";
  }

  public static String fetchLock(String username) {
    return "bg:lock:{" + username + "}";
  }

  // ---- Webhooks and events. Every key below carries the {bg} hash tag: the ingest, ack, dead-letter and replay
  // scripts touch several of them at once, and in Redis Cluster all keys of one script must share a slot.

  /** Stream of verified, deduplicated webhook deliveries waiting to be handled (consumer group {@link #EVENTS_GROUP}). */
  public static final String EVENTS_STREAM = "bg:events:{bg}";

  /** The consumer group every instance reads {@link #EVENTS_STREAM} through (one consumer per instance). */
  public static final String EVENTS_GROUP = "biogate";

  /** Stream of deliveries whose handling failed {@code maxAttempts} times; replayed through {@code /admin}. */
  public static final String DEAD_LETTERS = "bg:events:{bg}:dead";

  /** Stream of LinkMe {@code link.click} events for click analytics (fields event_id, link_id, ts, source). */
  public static final String CLICKS_STREAM = "bg:clicks:{bg}";

  /** Pub/sub channel: "{@code <instance id> <username>}" tells every other instance to drop its L1 copy. */
  public static final String INVALIDATE_CHANNEL = "bg:invalidate";

  /** A dedupe marker for one delivery, e.g. {@code webhookDedupe("linktree", "id", deliveryId)}. */
  public static String webhookDedupe(String provider, String kind, String value) {
    return "bg:wh:{bg}:dedupe:" + provider + ":" + kind + ":" + value;
  }

  /** Hash: one delivery's history (received, type, deliveries, attempts, outcome), kept as long as its dedupe marker. */
  public static String webhookDelivery(String provider, String deliveryId) {
    return "bg:wh:{bg}:delivery:" + provider + ":" + deliveryId;
  }

  /** Hash: Klaviyo system-webhook events handled, topic → count. */
  public static final String KLAVIYO_TOPICS = "bg:wh:{bg}:klaviyo:topics";

  // ---- Click analytics and the Klaviyo sink (analytics/, sink/). Counters are per creator: their keys carry the
  // username as hash tag, so one click's dedupe marker and its three bucket hashes share a slot and one Lua script
  // can update them atomically in Redis Cluster. Streams, the dead letters and the API-key index use {bg}.

  /** Consumer group on {@link #CLICKS_STREAM} that maintains the click counters (every instance reads through it). */
  public static final String CLICKS_COUNTER_GROUP = "analytics";

  /** Hash: one creator's clicks in one time bucket, link id → count; {@code unit} is m, h or d, {@code index} the bucket start / unit. */
  public static String clickBucket(String username, char unit, long index) {
    return "bg:an:{" + username + "}:" + unit + ":" + index;
  }

  /** String: this click event has been counted for this creator (see redis/click_count.lua). */
  public static String clickCounted(String username, String eventId) {
    return "bg:an:{" + username + "}:seen:" + eventId;
  }

  /** Hash: clicks no creator could be found for (LinkMe link ids no cached profile holds), link id → count. */
  public static final String CLICKS_UNATTRIBUTED = "bg:an:{bg}:unattributed";

  public static String clickCountedUnattributed(String eventId) {
    return "bg:an:{bg}:unattributed:seen:" + eventId;
  }

  /** Hash: SHA-256 (hex) of a creator API key → {@code <username>:<key id>}. */
  public static final String CREATOR_KEY_INDEX = "bg:keys:{bg}:index";

  /** Hash: one creator's API keys, key id → {@code <sha-256 hex>:<created epoch ms>}. */
  public static String creatorKeys(String username) {
    return "bg:keys:{bg}:creator:" + username;
  }

  /** Consumer group on {@link #CLICKS_STREAM} (and {@link #KLAVIYO_RETRY}) feeding the Klaviyo sink. */
  public static final String KLAVIYO_GROUP = "klaviyo";

  /** Stream: Klaviyo events that exhausted their attempts or were rejected; replayed through {@code /admin}. */
  public static final String KLAVIYO_DLQ = "bg:sink:klaviyo:dlq:{bg}";

  /** Stream: dead letters put back for delivery (read by the sink like the clicks stream). */
  public static final String KLAVIYO_RETRY = "bg:sink:klaviyo:retry:{bg}";

  /** String: Klaviyo accepted this event id; a repeated stream entry is not sent again. Tagged per event. */
  public static String klaviyoSent(String eventId) {
    return "bg:sink:klaviyo:sent:{" + eventId + "}";
  }

  // ---- Link batch jobs (links/). Each job's keys carry the job id as hash tag: its scripts touch several of them,
  // and jobs spread over a Cluster's slots. The active set is one cluster-wide key, written by single commands.

  /** Set: ids of link batch jobs not yet finished; every instance scans it for jobs to take over. */
  public static final String JOBS_ACTIVE = "bg:jobs:{bg}:active";

  /** Hash: a job's description and progress (id, username, created, total, applied, failed, state, ...). */
  public static String job(String id) {
    return "bg:job:{" + id + "}";
  }

  /** Hash: a job's operations, index → operation JSON. */
  public static String jobOps(String id) {
    return "bg:job:{" + id + "}:ops";
  }

  /** Hash: a job's operation results, index → result JSON. */
  public static String jobResults(String id) {
    return "bg:job:{" + id + "}:results";
  }

  /** Hash: operations whose upstream call was started and not yet recorded, index → owner that called. */
  public static String jobInflight(String id) {
    return "bg:job:{" + id + "}:inflight";
  }

  /** String: the instance applying the job (owner token), with a lease time renewed by its heartbeat. */
  public static String jobLease(String id) {
    return "bg:job:{" + id + "}:lease";
  }

  /** Hash: upstream permits granted per lane in one minute ({@code minute} = epoch minutes), lane → count. */
  public static String budgetUsage(String budget, long minute) {
    return "bg:budget:{" + budget + "}:usage:" + minute;
  }
}
