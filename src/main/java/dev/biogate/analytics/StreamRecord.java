package dev.biogate.analytics;

import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One stream entry as read through a consumer group, and the readers of Redis's stream replies in RESP2 (arrays) and
 * RESP3 (maps) alike.
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
    if (reply == null || reply.size() == 0) {
      return List.of();
    }
    Response perStream = reply.isMap() ? reply.get(reply.getKeys().iterator().next()) : reply.get(0).get(1);
    return entries(perStream);
  }

  /** Entries of an {@code XRANGE}-shaped list (also the second element of an {@code XAUTOCLAIM} reply). */
  static List<StreamRecord> entries(Response list) {
    if (list == null) {
      return List.of();
    }
    List<StreamRecord> out = new ArrayList<>(list.size());
    for (Response e : list) {
      if (e == null || e.size() == 0) {
        continue;
      }
      Response f = e.size() > 1 ? e.get(1) : null;
      out.add(new StreamRecord(e.get(0).toString(), f == null ? null : fields(f)));
    }
    return out;
  }

  /** A flat field/value list or a RESP3 map as a map. */
  static Map<String, String> fields(Response r) {
    Map<String, String> out = new HashMap<>();
    if (r == null) {
      return out;
    }
    if (r.isMap()) {
      for (String k : r.getKeys()) {
        Response v = r.get(k);
        out.put(k, v == null ? null : v.toString());
      }
      return out;
    }
    for (int i = 0; i + 1 < r.size(); i += 2) {
      Response v = r.get(i + 1);
      out.put(r.get(i).toString(), v == null ? null : v.toString());
    }
    return out;
  }
}
