package dev.biogate.events;

import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.StreamReplies;
import io.vertx.redis.client.Response;

import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * One entry of the events stream: a queued delivery ({@code provider, delivery_id, type, received, body}), read from
 * Redis's replies by {@link StreamReplies}.
 */
public final class StreamEntry {

  public final String id;
  public final Map<String, String> fields;

  StreamEntry(String id, Map<String, String> fields) {
    this.id = id;
    this.fields = fields;
  }

  public String provider() { return fields.get("provider"); }
  public String deliveryId() { return fields.get("delivery_id"); }
  public String type() { return fields.get("type"); }
  public String body() { return fields.get("body"); }

  /** The delivery's history hash, or {@code null} for an entry without provider and id (never written by us). */
  public String historyKey() {
    return provider() == null || deliveryId() == null ? null : RedisKeys.webhookDelivery(provider(), deliveryId());
  }

  /** Entries of an {@code XREADGROUP}/{@code XREAD} reply for one stream; empty on timeout. */
  static List<StreamEntry> fromRead(Response reply) {
    return StreamReplies.fromRead(reply, StreamEntry::of);
  }

  /** Entries of an {@code XRANGE}-shaped list; an entry whose fields are nil (deleted) keeps an empty map. */
  static List<StreamEntry> entries(Response list) {
    return StreamReplies.entries(list, StreamEntry::of);
  }

  private static StreamEntry of(String id, Map<String, String> fields) {
    return new StreamEntry(id, fields == null ? Collections.emptyMap() : fields);
  }

  /** A flat field/value list or a RESP3 map (HGETALL, stream entry fields) as a map. */
  public static Map<String, String> fields(Response r) {
    return StreamReplies.fields(r);
  }
}
