package dev.biogate.redis;

import java.nio.charset.StandardCharsets;
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
 * The assignment depends on {@code count} only: every instance of a deployment must use the same count.
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

  /** The hash tag of one shard; every key of that shard contains it. */
  public static String tag(int shard) {
    return "{bg:s" + shard + "}";
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

  /** Per-shard share of a deployment-wide backlog ceiling: the shards together never hold more than {@code total}. */
  public long ceiling(long total) {
    return Math.max(1, total / count);
  }
}
