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
 * Which master serves each of Redis Cluster's 16384 slots, as one node answered {@code CLUSTER SLOTS}, each as
 * {@code host:port}, and that master's replicas as listed then (addressed only to read a key whose master does not
 * answer). Immutable; a slot no master serves maps to {@code null}.
 */
final class ClusterTopology {

  static final int SLOTS = 16384;
  static final ClusterTopology EMPTY = new ClusterTopology(new String[SLOTS], new List[SLOTS]);

  private final String[] owners;
  /** Per slot, the replicas of its master in the reply (one list per range, shared); {@code null} when none. */
  private final List<String>[] replicas;
  private final List<String> masters;

  private ClusterTopology(String[] owners, List<String>[] replicas) {
    this.owners = owners;
    this.replicas = replicas;
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
  @SuppressWarnings("unchecked")
  static ClusterTopology parse(Response reply, String answeredBy) {
    String[] owners = new String[SLOTS];
    List<String>[] replicas = new List[SLOTS];
    for (Response range : reply) {
      int from = Math.max(0, range.get(0).toInteger());
      int to = Math.min(SLOTS - 1, range.get(1).toInteger());
      String address = address(range.get(2), answeredBy);
      Arrays.fill(owners, from, to + 1, address);
      List<String> behind = new ArrayList<>();
      for (int i = 3; i < range.size(); i++) {
        String replica = address(range.get(i), null);
        if (replica != null) {
          behind.add(replica);
        }
      }
      // Sorted: nodes may list a master's replicas in different orders, and that is no change of topology.
      behind.sort(null);
      Arrays.fill(replicas, from, to + 1, behind.isEmpty() ? null : List.copyOf(behind));
    }
    return new ClusterTopology(owners, replicas);
  }

  /** A node entry's {@code host:port}; an empty or unknown host is {@code answeredBy}'s ({@code null}: no address). */
  private static String address(Response node, String answeredBy) {
    String host = node.get(0) == null ? "" : node.get(0).toString();
    if (host.isEmpty() || "?".equals(host)) {
      host = answeredBy;
    }
    return host == null ? null : host + ":" + node.get(1).toInteger();
  }

  /** The replicas of {@code slot}'s master as listed, or none. */
  List<String> replicas(int slot) {
    List<String> r = replicas[slot];
    return r == null ? List.of() : r;
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
    List<String>[] behind = replicas.clone();
    behind[slot] = null; // not known for the new owner until the next refresh
    return new ClusterTopology(copy, behind);
  }

  boolean sameAs(ClusterTopology other) {
    // Replicas too: one added, moved or promoted under an unchanged owner must reach the replica reads.
    return Arrays.equals(owners, other.owners) && Arrays.equals(replicas, other.replicas);
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
    // Each range with its replicas: a refresh that changed only replicas is logged, and its line must say what changed.
    List<String> ranges = new ArrayList<>();
    int start = 0;
    for (int i = 1; i <= SLOTS; i++) {
      if (i == SLOTS || !java.util.Objects.equals(owners[i], owners[start])
        || !java.util.Objects.equals(replicas[i], replicas[start])) {
        if (owners[start] != null) {
          ranges.add(start + "-" + (i - 1) + "=" + owners[start]
            + (replicas[start] == null ? "" : " (replicas " + String.join(", ", replicas[start]) + ")"));
        }
        start = i;
      }
    }
    return String.join(" ", ranges);
  }
}
