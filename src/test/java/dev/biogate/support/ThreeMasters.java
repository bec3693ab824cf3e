package dev.biogate.support;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/** A small Redis Cluster a test forms for itself (and may freeze or break): three masters, a third of the slots each. */
public final class ThreeMasters {

  private static final int[][] RANGES = {{0, 5460}, {5461, 10922}, {10923, 16383}};

  private ThreeMasters() {
  }

  /**
   * Starts three masters named {@code name-<i>} with {@code conf} into {@code nodes}, gives each a third of the slots and
   * waits until every node is in {@code cluster_state:ok}; returns the gateway's redis section for them.
   */
  public static JsonObject form(List<RedisProcess> nodes, String name, List<String> conf) {
    for (int i = 0; i < 3; i++) {
      nodes.add(RedisProcess.start(name + "-" + i, conf, false, true));
    }
    for (RedisProcess n : nodes.subList(1, 3)) {
      nodes.get(0).call("CLUSTER", "MEET", "127.0.0.1", n.port());
    }
    for (int m = 0; m < 3; m++) {
      List<Object> cmd = new ArrayList<>(List.of("CLUSTER", "ADDSLOTS"));
      IntStream.rangeClosed(RANGES[m][0], RANGES[m][1]).forEach(cmd::add);
      nodes.get(m).call(cmd.toArray());
    }
    RedisProcess.await("every node in cluster_state:ok", 15_000,
      () -> nodes.stream().allMatch(n -> n.string("CLUSTER", "INFO").contains("cluster_state:ok")));
    return new JsonObject().put("type", "cluster")
      .put("endpoints", new JsonArray(nodes.stream().map(RedisProcess::url).collect(Collectors.toList())));
  }

  /** The one of the three masters ({@code nodes}' first three, as {@link #form} started them) holding {@code key}'s slot. */
  public static RedisProcess masterOf(List<RedisProcess> nodes, String key) {
    long slot = Long.parseLong(nodes.get(0).call("CLUSTER", "KEYSLOT", key).toString());
    for (int m = 0; m < 3; m++) {
      if (slot >= RANGES[m][0] && slot <= RANGES[m][1]) {
        return nodes.get(m);
      }
    }
    throw new IllegalStateException("slot " + slot);
  }
}
