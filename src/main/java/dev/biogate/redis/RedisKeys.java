package dev.biogate.redis;

/**
 * Every Redis key the gateway uses. Per-profile keys carry the username as a hash tag so that a profile's copy and
 * its fetch lock live in one Cluster slot; ingest (webhook and click streams, dedupe, history, link owners) is split
 * over {@link Shards}, each with its own tag; the remaining singletons use the {@code {bg}} tag.
 */
public final class RedisKeys {

  /**
   * Hash: link id → username of the cached profile holding it, for the links of one shard ({@link Shards#ofName})
   * written in one period (a copy's retention): each period's hash expires once the next one has ended.
   */
  public static String linkOwners(int shard, long period) {
    return "bg:link-owners:" + Shards.tag(shard) + ":" + period;
  }

  /** Sorted set: the upstream budget's permit log (see redis/rate_limit.lua). */
  public static String budgetLog(String budget) {
    return "bg:budget:{" + budget + "}:log";
  }

  /** String, expiring with the breaker's reset time: some instance's breaker to this upstream is open. */
  public static String upstreamBreakerOpen(String upstream) {
    return "bg:upstream:{" + upstream + "}:breaker-open";
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

  /** String: one client's quota of misses for known names nothing holds (redis/miss_quota.lua); tagged by the client key. */
  public static String knownMissQuota(String client) {
    return "bg:knownq:{" + client + "}";
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

  /**
   * Hash: when the webhook changes written to the profile's shared copy were made, part ({@code profile},
   * {@code link:<id>}) → epoch ms (see redis/profile_write.lua); same hash tag as the copy.
   */
  public static String profileChanges(String username) {
    return "bg:profile:{" + username + "}:changes";
  }

  public static String fetchLock(String username) {
    return "bg:lock:{" + username + "}";
  }

  // ---- Webhooks and events, sharded (see Shards). Every key of one shard carries the shard's hash tag: the ingest,
  // ack, dead-letter and replay scripts touch several of them at once, and in Redis Cluster all keys of one script
  // must share a slot. Different shards hash to different slots, hence to different masters.

  /** Stream of one shard's verified, deduplicated deliveries waiting to be handled (consumer group {@link #EVENTS_GROUP}). */
  public static String eventsShard(int shard) {
    return "bg:events:" + Shards.tag(shard);
  }

  /** The consumer group every instance reads each events shard through (one consumer per instance). */
  public static final String EVENTS_GROUP = "biogate";

  /** Stream of one shard's deliveries whose handling failed {@code maxAttempts} times; replayed through {@code /admin}. */
  public static String deadLettersShard(int shard) {
    return "bg:events:" + Shards.tag(shard) + ":dead";
  }

  /** Stream of one shard's clicks (by creator, see {@link Shards#ofClick}) for analytics and the Klaviyo sink. */
  public static String clicksShard(int shard) {
    return "bg:clicks:" + Shards.tag(shard);
  }

  /**
   * Pub/sub channel of the deployment on {@code database}: "{@code <writer> <username> ...}" tells every other instance
   * to drop its L1 copy. Pub/sub ignores the database, so a deployment on another database of the same server has a
   * channel of its own (on one channel, each deployment's webhooks purged the other's copies).
   */
  public static String invalidateChannel(int database) {
    return database == 0 ? "bg:invalidate" : "bg:invalidate:db" + database;
  }

  /** A dedupe marker for one delivery in its shard, e.g. {@code webhookDedupe(7, "linktree", "id", deliveryId)}. */
  public static String webhookDedupe(int shard, String provider, String kind, String value) {
    return "bg:wh:" + Shards.tag(shard) + ":dedupe:" + provider + ":" + kind + ":" + value;
  }

  /**
   * String: the shard a delivery id was first queued on (see redis/webhook_route.lua); tagged by the id itself, so
   * routes spread over every slot. Retries and admin lookups by id find the delivery's shard through it.
   */
  public static String webhookRoute(String provider, String deliveryId) {
    return "bg:wh:route:{" + provider + ":" + deliveryId + "}";
  }

  /** Hash: one delivery's history (received, type, deliveries, attempts, outcome), kept as long as its dedupe marker. */
  public static String webhookDelivery(int shard, String provider, String deliveryId) {
    return "bg:wh:" + Shards.tag(shard) + ":delivery:" + provider + ":" + deliveryId;
  }

  /**
   * String: the deployment's shard count ({@code webhooks.shards}), recorded by the first instance to start; an instance
   * configured with another count refuses to start (see {@link Shards#record}). One key of the {@code {bg}} slot.
   */
  public static final String WEBHOOK_SHARDS = "bg:wh:{bg}:shards";

  /** Hash: Klaviyo system-webhook events handled, topic → count. */
  public static final String KLAVIYO_TOPICS = "bg:wh:{bg}:klaviyo:topics";

  /** String: marks a Klaviyo system-webhook event counted in {@link #KLAVIYO_TOPICS} (redis/klaviyo_topic_count.lua). */
  public static String klaviyoCounted(String deliveryId) {
    return "bg:wh:{bg}:klaviyo:counted:" + deliveryId;
  }

  // ---- Click analytics and the Klaviyo sink (analytics/, sink/). Counters are per creator: their keys carry the
  // username as hash tag, so one click's dedupe marker and its three bucket hashes share a slot and one Lua script
  // can update them atomically in Redis Cluster. Streams, the dead letters and the API-key index use {bg}.

  /** Consumer group on each clicks shard that maintains the click counters (every instance reads through it). */
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
  /**
   * Hash: clicks no creator owns, per link id, for one UTC day ({@code dayIndex} = epoch ms / 86,400,000), kept as long
   * as creators' day buckets. One hash for all time kept a field for every unknown link id ever clicked.
   */
  public static String clicksUnattributed(long dayIndex) {
    return "bg:an:{bg}:unattributed:d:" + dayIndex;
  }
  /** The secret click fingerprints are keyed with when none is configured, shared by every instance (hex). */
  public static final String CLICK_FINGERPRINT_SECRET = "bg:an:{bg}:fingerprint-secret";

  public static String clickCountedUnattributed(String eventId) {
    return "bg:an:{bg}:unattributed:seen:" + eventId;
  }

  /**
   * String: the time of the newest Linktree change applied to one link ({@code kind} "link") or one profile
   * ("profile"), see redis/event_order.lua. One key, hash-tagged by its own id.
   */
  public static String eventOrder(String kind, String id) {
    return "bg:order:{" + kind + ":" + id + "}";
  }

  /** Hash: SHA-256 (hex) of a creator API key → {@code <username>:<key id>}. */
  public static final String CREATOR_KEY_INDEX = "bg:keys:{bg}:index";

  /** Hash: one creator's API keys, key id → {@code <sha-256 hex>:<created epoch ms>}. */
  public static String creatorKeys(String username) {
    return "bg:keys:{bg}:creator:" + username;
  }

  /** Consumer group on each clicks shard (and {@link #KLAVIYO_RETRY}) feeding the Klaviyo sink. */
  public static final String KLAVIYO_GROUP = "klaviyo";

  /** Stream: one clicks shard's Klaviyo events that exhausted their attempts or were rejected; replayed onto that shard. */
  public static String klaviyoDlqShard(int shard) {
    return "bg:sink:klaviyo:dlq:" + Shards.tag(shard);
  }

  /** Stream: retry-stream Klaviyo events that exhausted their attempts or were rejected; replayed through {@code /admin}. */
  public static final String KLAVIYO_DLQ = "bg:sink:klaviyo:dlq:{bg}";

  /** Stream: dead letters put back for delivery (read by the sink like the clicks stream). */
  public static final String KLAVIYO_RETRY = "bg:sink:klaviyo:retry:{bg}";

  /** String: a milestone with this delivery id was queued on {@link #KLAVIYO_RETRY} (same hash tag, one slot). */
  public static String klaviyoQueued(String deliveryId) {
    return "bg:sink:klaviyo:queued:{bg}:" + deliveryId;
  }

  /** String: Klaviyo accepted this event id; a repeated stream entry is not sent again. Tagged per event. */
  public static String klaviyoSent(String eventId) {
    return "bg:sink:klaviyo:sent:{" + eventId + "}";
  }

  // ---- Link batch jobs (links/). Every job key shares the active set's slot ({bg}): a job is stored and listed as
  // active in one atomic script, and one WAIT then covers both before its 202. Jobs are few (at most 100 active) and
  // paced by the upstream budget, so one slot holds them all without becoming a hot spot.

  /** Set: ids of link batch jobs not yet finished; every instance scans it for jobs to take over. */
  public static final String JOBS_ACTIVE = "bg:jobs:{bg}:active";

  /** Hash: a job's description and progress (id, username, created, total, applied, failed, state, ...). */
  public static String job(String id) {
    return "bg:job:{bg}:" + id;
  }

  /** Hash: a job's operations, index → operation JSON. */
  public static String jobOps(String id) {
    return "bg:job:{bg}:" + id + ":ops";
  }

  /** Hash: a job's operation results, index → result JSON. */
  public static String jobResults(String id) {
    return "bg:job:{bg}:" + id + ":results";
  }

  /** Hash: operations whose upstream call was started and not yet recorded, index → owner that called. */
  public static String jobInflight(String id) {
    return "bg:job:{bg}:" + id + ":inflight";
  }

  /** String: the instance applying the job (owner token), with a lease time renewed by its heartbeat. */
  public static String jobLease(String id) {
    return "bg:job:{bg}:" + id + ":lease";
  }

  /** Hash: upstream permits granted per lane in one minute ({@code minute} = epoch minutes), lane → count. */
  public static String budgetUsage(String budget, long minute) {
    return "bg:budget:{" + budget + "}:usage:" + minute;
  }
}
