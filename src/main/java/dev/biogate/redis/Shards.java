package dev.biogate.redis;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

/**
 * Ingest is split into {@code count} shards, each with its own hash tag ({@code {bg:s<n>}}), so that its stream,
 * consumer group, dead letters, dedupe markers and delivery history share one Redis Cluster slot (one script can
 * touch them all) while different shards land on different masters. Which shard a thing belongs to:
 * <ul>
 *   <li>a webhook delivery: its content digest (SHA-256 of provider + raw body), so a provider retry and a
 *       re-signed replay under a new delivery id land on the same shard and are deduplicated by one atomic script;</li>
 *   <li>a click: its creator (or, when the source names only the link, the link id), so one creator's clicks are
 *       counted in order by one shard's consumer;</li>
 *   <li>a link's owner entry: the link id.</li>
 * </ul>
 * The assignment depends on {@code count} only: every instance of a deployment must use the same count. The first
 * instance records it in Redis ({@link #record}); one configured otherwise refuses to start.
 */
public final class Shards {

  public static final int DEFAULT_COUNT = 16;
  public static final int MAX_COUNT = 1024;

  private final int count;

  public Shards(int count) {
    if (count < 1 || count > MAX_COUNT) {
      throw new IllegalArgumentException("shards must be within 1.." + MAX_COUNT + ": " + count);
    }
    this.count = count;
  }

  public int count() {
    return count;
  }

  /**
   * The hash tag of one shard; every key of that shard contains it. Tags are chosen so that their Cluster slots are
   * spread evenly whatever the shard count: the slot space is cut into {@value #SLOT_BUCKETS} parts and shard n's
   * slot falls in part {@code bit-reverse(n)} (a van der Corput sequence), so the first K shards sit at even
   * intervals (exactly, for K a power of two) and a cluster whose masters own contiguous, equal slot ranges gets
   * about K / M shards each: 6/5/5 for 16 shards on 3 masters. (Plain {@code {bg:s0}..{bg:s15}} put 10 of 16 on one
   * of three masters.) A salt is appended to find such a tag; a pure function: every instance agrees.
   */
  public static String tag(int shard) {
    String[] cache = TAGS;
    if (shard < cache.length && cache[shard] != null) {
      return cache[shard];
    }
    return computeTag(shard);
  }

  private static final int SLOT_BUCKETS = 1024;
  private static final String[] TAGS = new String[MAX_COUNT];

  private static synchronized String computeTag(int shard) {
    if (shard < TAGS.length && TAGS[shard] != null) {
      return TAGS[shard];
    }
    int bucket = Integer.reverse(shard % SLOT_BUCKETS) >>> (32 - Integer.numberOfTrailingZeros(SLOT_BUCKETS));
    for (int salt = 0; ; salt++) {
      String name = "bg:s" + shard + ":" + salt;
      if (slot(name) * SLOT_BUCKETS / SLOTS == bucket) {
        String tag = "{" + name + "}";
        if (shard < TAGS.length) {
          TAGS[shard] = tag;
        }
        return tag;
      }
    }
  }

  private static final int SLOTS = 16384;

  /** Redis Cluster's slot of a hash tag's content: CRC16 (XMODEM) modulo 16384. */
  static int slot(String tag) {
    int crc = 0;
    for (byte b : tag.getBytes(StandardCharsets.UTF_8)) {
      crc ^= (b & 0xff) << 8;
      for (int i = 0; i < 8; i++) {
        crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
        crc &= 0xffff;
      }
    }
    return crc % SLOTS;
  }

  /** The shard of a content digest given as hex (at least 8 digits): its first 32 bits, modulo the count. */
  public int ofDigestHex(String hex) {
    return (int) Long.remainderUnsigned(Long.parseLong(hex.substring(0, 8), 16), count);
  }

  /** The shard of a name (creator, link id): CRC-32 of its UTF-8 bytes, modulo the count. */
  public int ofName(String name) {
    CRC32 crc = new CRC32();
    crc.update(name.getBytes(StandardCharsets.UTF_8));
    return (int) (crc.getValue() % count);
  }

  /** The shard of a click: by creator when known, else by link id. */
  public int ofClick(String username, String linkId) {
    return ofName(username != null ? username : linkId == null ? "" : linkId);
  }

  /**
   * Records this count as the deployment's ({@link RedisKeys#WEBHOOK_SHARDS}) unless one is recorded already, and
   * completes with the recorded count as stored: this one, or the one an earlier instance recorded. Instances with
   * different counts put one delivery on different shards, so their dedupe misses each other's deliveries and a
   * redelivery pinned to a shard the other does not have is refused (503) for good; the caller compares. Completes
   * with {@code null} when Redis does not answer within {@code timeoutMs}: an outage tells nothing. Never fails.
   */
  public Future<String> record(Redis redis, long timeoutMs) {
    String mine = Integer.toString(count);
    return redis.send(Request.cmd(Command.SET).arg(RedisKeys.WEBHOOK_SHARDS).arg(mine).arg("NX"))
      .timeout(timeoutMs, TimeUnit.MILLISECONDS)
      .compose(set -> set != null ? Future.succeededFuture(mine)
        : redis.send(Request.cmd(Command.GET).arg(RedisKeys.WEBHOOK_SHARDS)).timeout(timeoutMs, TimeUnit.MILLISECONDS)
          .map(r -> r == null ? null : r.toString()))
      .otherwise((String) null);
  }

  /** Per-shard share of a deployment-wide backlog ceiling: the shards together never hold more than {@code total}. */
  public long ceiling(long total) {
    return Math.max(1, total / count);
  }
}
