package dev.biogate.events;

import dev.biogate.redis.RedisKeys;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One entry of the events stream: a queued delivery ({@code provider, delivery_id, type, received, body}). Also reads
 * the shapes Redis answers stream commands with, in RESP2 (arrays) and RESP3 (maps) alike.
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
    if (reply == null || reply.size() == 0) {
      return List.of();
    }
    Response perStream = reply.isMap() ? reply.get(reply.getKeys().iterator().next()) : reply.get(0).get(1);
    return entries(perStream);
  }

  /** Entries of an {@code XRANGE}-shaped list; an entry whose fields are nil (deleted) keeps an empty map. */
  static List<StreamEntry> entries(Response list) {
    if (list == null) {
      return List.of();
    }
    List<StreamEntry> out = new ArrayList<>(list.size());
    for (Response e : list) {
      if (e == null || e.size() == 0) {
        continue;
      }
      Response f = e.size() > 1 ? e.get(1) : null;
      out.add(new StreamEntry(e.get(0).toString(), f == null ? Collections.emptyMap() : fields(f)));
    }
    return out;
  }

  /** A flat field/value list or a RESP3 map (HGETALL, stream entry fields) as a map. */
  public static Map<String, String> fields(Response r) {
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
