package dev.biogate.redis;

import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.RequestImpl;
import io.vertx.redis.client.impl.ZModem;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which master serves each of Redis Cluster's 16384 slots, as one node answered {@code CLUSTER SLOTS}: masters only
 * (replicas are never addressed), each as {@code host:port}. Immutable; a slot no master serves maps to {@code null}.
 */
final class ClusterTopology {

  static final int SLOTS = 16384;
  static final ClusterTopology EMPTY = new ClusterTopology(new String[SLOTS]);

  private final String[] owners;
  private final List<String> masters;

  private ClusterTopology(String[] owners) {
    this.owners = owners;
    Set<String> distinct = new LinkedHashSet<>();
    for (String o : owners) {
      if (o != null) {
        distinct.add(o);
      }
    }
    this.masters = List.copyOf(distinct);
  }

  /**
   * Reads a {@code CLUSTER SLOTS} reply: {@code [[from, to, [host, port, id...], replicas...], ...]}. A node that does
   * not know its own address yet answers an empty host for itself: that is the host the reply came from.
   */
  static ClusterTopology parse(Response reply, String answeredBy) {
    String[] owners = new String[SLOTS];
    for (Response range : reply) {
      int from = range.get(0).toInteger();
      int to = range.get(1).toInteger();
      Response master = range.get(2);
      String host = master.get(0) == null ? "" : master.get(0).toString();
      if (host.isEmpty() || "?".equals(host)) {
        host = answeredBy;
      }
      String address = host + ":" + master.get(1).toInteger();
      Arrays.fill(owners, Math.max(0, from), Math.min(SLOTS - 1, to) + 1, address);
    }
    return new ClusterTopology(owners);
  }

  /** The master serving {@code slot}, or {@code null}. */
  String master(int slot) {
    return owners[slot];
  }

  List<String> masters() {
    return masters;
  }

  /** Slots no master serves in this topology. */
  int uncovered() {
    int n = 0;
    for (String o : owners) {
      n += o == null ? 1 : 0;
    }
    return n;
  }

  boolean isEmpty() {
    return masters.isEmpty();
  }

  /** This topology with one slot moved to {@code address} (what a {@code MOVED} reply says until the next refresh). */
  ClusterTopology moved(int slot, String address) {
    if (address.equals(owners[slot])) {
      return this;
    }
    String[] copy = owners.clone();
    copy[slot] = address;
    return new ClusterTopology(copy);
  }

  boolean sameAs(ClusterTopology other) {
    return Arrays.equals(owners, other.owners);
  }

  /** The slot of a command: that of its first key (hash tags honoured); -1 for a command without keys. */
  static int slot(Request request) {
    List<byte[]> keys;
    try {
      keys = ((RequestImpl) request).keys();
    } catch (RuntimeException e) {
      return -1;
    }
    return keys == null || keys.isEmpty() ? -1 : ZModem.generate(keys.get(0));
  }

  /** The slot of {@code key} (hash tags honoured). */
  static int slot(String key) {
    return ZModem.generate(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** The slot of a pipeline: that of its first keyed command (the gateway's batches keep one hash tag); -1 if none. */
  static int slot(List<Request> requests) {
    for (Request r : requests) {
      int s = slot(r);
      if (s >= 0) {
        return s;
      }
    }
    return -1;
  }

  @Override
  public String toString() {
    List<String> ranges = new ArrayList<>();
    int start = 0;
    for (int i = 1; i <= SLOTS; i++) {
      if (i == SLOTS || !java.util.Objects.equals(owners[i], owners[start])) {
        if (owners[start] != null) {
          ranges.add(start + "-" + (i - 1) + "=" + owners[start]);
        }
        start = i;
      }
    }
    return String.join(" ", ranges);
  }
}
