package dev.biogate.redis;

import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Reads the shapes Redis answers stream commands with, in RESP2 (arrays) and RESP3 (maps) alike, into whatever entry
 * type a consumer uses.
 */
public final class StreamReplies {

  private StreamReplies() {
  }

  /** Entries of an {@code XREADGROUP}/{@code XREAD} reply for a single stream; empty on timeout. */
  public static <T> List<T> fromRead(Response reply, BiFunction<String, Map<String, String>, T> entry) {
    if (reply == null || reply.size() == 0) {
      return List.of();
    }
    Response perStream = reply.isMap() ? reply.get(reply.getKeys().iterator().next()) : reply.get(0).get(1);
    return entries(perStream, entry);
  }

  /**
   * Entries of an {@code XRANGE}-shaped list (also the second element of an {@code XAUTOCLAIM} reply). An entry
   * deleted while pending has nil fields: {@code entry} receives {@code null} for them.
   */
  public static <T> List<T> entries(Response list, BiFunction<String, Map<String, String>, T> entry) {
    if (list == null) {
      return List.of();
    }
    List<T> out = new ArrayList<>(list.size());
    for (Response e : list) {
      if (e == null || e.size() == 0) {
        continue;
      }
      Response f = e.size() > 1 ? e.get(1) : null;
      out.add(entry.apply(e.get(0).toString(), f == null ? null : fields(f)));
    }
    return out;
  }

  /** A flat field/value list or a RESP3 map (stream entry fields, {@code HGETALL}) as a map. */
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
