package dev.biogate.analytics;

import dev.biogate.redis.StreamReplies;
import io.vertx.redis.client.Response;

import java.util.List;
import java.util.Map;

/**
 * One stream entry as read through a consumer group (replies read by {@link StreamReplies}).
 *
 * @param fields the entry's fields, or {@code null} when the entry was deleted (trimmed) while pending
 */
public record StreamRecord(String id, Map<String, String> fields) {

  /** The time part of the entry id (epoch ms the entry was added). */
  public long addedAtMs() {
    int dash = id.indexOf('-');
    try {
      return Long.parseLong(dash < 0 ? id : id.substring(0, dash));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Entries of an {@code XREADGROUP} reply for a single stream; empty when there were none. */
  static List<StreamRecord> fromRead(Response reply) {
    return StreamReplies.fromRead(reply, StreamRecord::new);
  }

  /** Entries of an {@code XRANGE}-shaped list (also the second element of an {@code XAUTOCLAIM} reply). */
  static List<StreamRecord> entries(Response list) {
    return StreamReplies.entries(list, StreamRecord::new);
  }

  /** A flat field/value list or a RESP3 map as a map. */
  static Map<String, String> fields(Response r) {
    return StreamReplies.fields(r);
  }
}
