package dev.biogate.webhook;

import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.Shards;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;

/**
 * One verified delivery, ready to be deduplicated and queued: who sent it, its id, its event type, the dedupe
 * markers that identify it ({@code kind:value} pairs, e.g. {@code id:<delivery id>}), the SHA-256 (hex) of its
 * provider and raw body, and its body (the verified bytes, passed to Redis as they came: no decode and re-encode). The
 * digest picks the delivery's shard, so every marker and its history live in that shard's slot.
 */
final class Delivery {

  static final String LINKTREE = "linktree";
  static final String LINKME = "linkme";

  final String provider;
  final String id;
  final String type;
  final List<String> markers;
  final String digest;
  final Buffer body;

  Delivery(String provider, String id, String type, List<String> markers, String digest, Buffer body) {
    this.provider = provider;
    this.id = id;
    this.type = type;
    this.markers = markers;
    this.digest = digest;
    this.body = body;
  }

  static String marker(String kind, String value) {
    return kind + ":" + value;
  }

  int shard(Shards shards) {
    return shards.ofDigestHex(digest);
  }

  /**
   * The markers in {@code shard}. None is the body's: a change back to an earlier state sends an earlier body again
   * under a new delivery id and timestamp, a new delivery (deduplicating on the body dropped it as a duplicate).
   */
  List<String> dedupeKeys(int shard) {
    List<String> keys = new ArrayList<>(markers.size());
    for (String m : markers) {
      keys.add(RedisKeys.webhookDedupe(shard, provider, m.substring(0, m.indexOf(':')), m.substring(m.indexOf(':') + 1)));
    }
    return keys;
  }

  String historyKey(int shard) {
    return RedisKeys.webhookDelivery(shard, provider, id);
  }
}
