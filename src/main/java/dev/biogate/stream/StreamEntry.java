package dev.biogate.stream;

import dev.biogate.redis.StreamReplies;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Response;

import java.util.List;
import java.util.Map;

/**
 * One entry of a Redis stream, as every consumer of the {@link StreamEngine} sees it.
 *
 * @param fields the entry's fields, or {@code null} when the entry was deleted from the stream while pending
 */
public record StreamEntry(String id, Map<String, String> fields) {

  /** A field's value, or {@code null}. */
  public String get(String field) {
    return fields == null ? null : fields.get(field);
  }

  /**
   * A field holding JSON text (a webhook body) as an object. A leading byte-order mark is skipped, as the ingest's
   * parser (reading the bytes) skipped it: a body accepted there must read the same here.
   */
  public JsonObject json(String field) {
    String text = get(field);
    return new JsonObject(text != null && text.startsWith("\uFEFF") ? text.substring(1) : text);
  }

  /** The characters of its field names and values: what holding it costs, roughly (twice this in bytes). */
  public long chars() {
    long n = id.length();
    if (fields != null) {
      for (Map.Entry<String, String> f : fields.entrySet()) {
        n += f.getKey().length() + (f.getValue() == null ? 0 : f.getValue().length());
      }
    }
    return n;
  }

  /** Deleted from the stream while it was pending: nothing is left to handle. */
  public boolean deleted() {
    return fields == null;
  }

  /** The time part of the id: epoch ms when the entry was added. */
  public long addedAtMs() {
    int dash = id.indexOf('-');
    try {
      return Long.parseLong(dash < 0 ? id : id.substring(0, dash));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Entries of an {@code XREADGROUP}/{@code XREAD} reply for one stream; empty when there were none. */
  public static List<StreamEntry> fromRead(Response reply) {
    return StreamReplies.fromRead(reply, StreamEntry::new);
  }

  /** Entries of an {@code XRANGE}-shaped list ({@code XCLAIM}, {@code XRANGE}). */
  public static List<StreamEntry> entries(Response list) {
    return StreamReplies.entries(list, StreamEntry::new);
  }

  /** A flat field/value list or a RESP3 map ({@code HGETALL}, entry fields) as a map. */
  public static Map<String, String> fields(Response r) {
    return StreamReplies.fields(r);
  }
}
