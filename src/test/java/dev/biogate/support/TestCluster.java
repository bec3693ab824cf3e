package dev.biogate.support;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A real Redis Cluster for the test JVM: 3 masters, each with one replica, six {@code redis-server} processes on
 * loopback, formed with {@code CLUSTER MEET}/{@code ADDSLOTS}/{@code REPLICATE} (no {@code redis-cli} needed).
 * Started lazily on first use and shared; {@link #get()} also heals what an earlier test broke (restarts killed
 * nodes, waits until every node agrees the cluster is whole), so each test starts from 3+3 with all slots served.
 * <p>
 * Nodes run with {@code cluster-node-timeout 1000} (a dead master is replaced in about two seconds) and
 * {@code cluster-require-full-coverage no} (slots of a dead master fail, the others keep serving), as
 * {@code deploy/} configures production.
 */
public final class TestCluster {

  public static final int MASTERS = 3;
  private static final long HEAL_TIMEOUT_MS = 60_000;
  private static TestCluster shared;

  private final List<RedisProcess> nodes;

  private TestCluster(List<RedisProcess> nodes) {
    this.nodes = nodes;
  }

  /** The shared cluster, started on first call (a few seconds), whole and serving every slot. */
  public static synchronized TestCluster get() {
    if (shared == null) {
      shared = form();
    }
    shared.heal();
    return shared;
  }

  private static TestCluster form() {
    List<String> conf = List.of("cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 1000",
      "cluster-require-full-coverage no", "cluster-replica-validity-factor 0", "cluster-allow-reads-when-down no");
    List<RedisProcess> nodes = IntStream.range(0, MASTERS * 2).parallel()
      .mapToObj(i -> RedisProcess.start("cluster-" + i, conf, false, true))
      .collect(Collectors.toList());
    RedisProcess first = nodes.get(0);
    for (RedisProcess n : nodes.subList(1, nodes.size())) {
      first.call("CLUSTER", "MEET", "127.0.0.1", n.port());
    }
    int per = 16384 / MASTERS;
    for (int m = 0; m < MASTERS; m++) {
      int from = m * per;
      int to = m == MASTERS - 1 ? 16383 : from + per - 1;
      List<Object> cmd = new ArrayList<>(List.of("CLUSTER", "ADDSLOTS"));
      IntStream.rangeClosed(from, to).forEach(cmd::add);
      nodes.get(m).call(cmd.toArray());
    }
    RedisProcess.await("every node knows all six", HEAL_TIMEOUT_MS,
      () -> nodes.stream().allMatch(n -> "6".equals(clusterInfo(n, "cluster_known_nodes"))));
    for (int m = 0; m < MASTERS; m++) {
      String masterId = nodes.get(m).string("CLUSTER", "MYID");
      nodes.get(MASTERS + m).call("CLUSTER", "REPLICATE", masterId);
    }
    return new TestCluster(nodes);
  }

  /** Restarts killed nodes and waits until every node sees 3 masters covering all slots, each with a live replica. */
  public void heal() {
    long deadline = System.currentTimeMillis() + HEAL_TIMEOUT_MS;
    for (RedisProcess n : nodes) {
      restart(n, deadline);
    }
    RedisProcess.await("cluster whole: " + nodes, HEAL_TIMEOUT_MS, this::whole);
  }

  /**
   * While a node is down its port is free, and an outgoing connection of this machine may get it as its local port
   * ("Address already in use" on restart) until that connection closes: the restart is tried again until
   * {@code deadline}.
   */
  private static void restart(RedisProcess n, long deadline) {
    while (true) {
      try {
        n.restart();
        return;
      } catch (java.io.UncheckedIOException e) {
        if (System.currentTimeMillis() > deadline) {
          throw e;
        }
        try {
          Thread.sleep(200);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  private boolean whole() {
    for (RedisProcess n : nodes) {
      if (!"ok".equals(clusterInfo(n, "cluster_state")) || !"16384".equals(clusterInfo(n, "cluster_slots_ok"))
        || !"6".equals(clusterInfo(n, "cluster_known_nodes"))) {
        return false;
      }
      String view = n.string("CLUSTER", "NODES");
      if (view.contains("fail") || view.contains("handshake") || view.contains("noaddr")) {
        return false;
      }
      List<List<Integer>> slots = slots(n);
      if (slots.stream().anyMatch(s -> s.size() != 4)) {
        return false;
      }
      if ("slave".equals(Resp.info(n.port(), "replication", "role"))
        && !"up".equals(Resp.info(n.port(), "replication", "master_link_status"))) {
        return false;
      }
    }
    return true;
  }

  public List<RedisProcess> nodes() {
    return nodes;
  }

  /** Seeds for a client: every node. */
  public List<String> endpoints() {
    return nodes.stream().map(RedisProcess::url).collect(Collectors.toList());
  }

  /** The gateway's {@code redis} config section for this cluster. */
  public JsonObject redisConfig() {
    return new JsonObject().put("type", "cluster").put("endpoints", new JsonArray(endpoints()));
  }

  /** The master currently serving {@code key}'s slot (as a live node sees it). */
  public RedisProcess masterOf(String key) {
    return node(slotOwner(key, 0));
  }

  /** The replica of the master currently serving {@code key}'s slot. */
  public RedisProcess replicaOf(String key) {
    return node(slotOwner(key, 1));
  }

  /** The slots {@code master} serves now, as a live node sees it (a snapshot: it does not follow later changes). */
  public java.util.function.IntPredicate slotsOf(RedisProcess master) {
    List<int[]> ranges = slots(live()).stream().filter(s -> s.get(2) == master.port())
      .map(s -> new int[] {s.get(0), s.get(1)}).collect(Collectors.toList());
    return slot -> ranges.stream().anyMatch(r -> slot >= r[0] && slot <= r[1]);
  }

  public List<RedisProcess> masters() {
    RedisProcess n = live();
    return slots(n).stream().map(s -> node(s.get(2))).distinct().collect(Collectors.toList());
  }

  /** {@code FLUSHALL} on every master (replicas follow). */
  public void flushAll() {
    masters().forEach(m -> m.call("FLUSHALL"));
  }

  /** Empties the script cache of every live node, replicas included: the next script call meets NOSCRIPT. */
  public void scriptFlush() {
    nodes.stream().filter(RedisProcess::isAlive).forEach(n -> n.call("SCRIPT", "FLUSH"));
  }

  /**
   * Kills the master serving {@code key} and waits until its replica has taken over the slot in every live node's
   * view. Returns the promoted node; the killed one stays down until {@link #heal()}.
   */
  public RedisProcess killMasterAndAwaitFailover(String key) {
    RedisProcess master = masterOf(key);
    RedisProcess replica = replicaOf(key);
    master.kill();
    awaitOwner(key, replica);
    return replica;
  }

  /** A coordinated {@code CLUSTER FAILOVER}: {@code key}'s replica becomes its master, nothing is lost. */
  public RedisProcess failover(String key) {
    RedisProcess replica = replicaOf(key);
    replica.call("CLUSTER", "FAILOVER");
    awaitOwner(key, replica);
    return replica;
  }

  private void awaitOwner(String key, RedisProcess owner) {
    int slot = slot(key);
    RedisProcess.await(owner + " serves slot " + slot + " on every live node", HEAL_TIMEOUT_MS, () -> nodes.stream()
      .filter(RedisProcess::isAlive)
      .allMatch(n -> "ok".equals(clusterInfo(n, "cluster_state")) && ownerIn(slots(n), slot, 0) == owner.port()));
  }

  public int slot(String key) {
    return ((Long) live().call("CLUSTER", "KEYSLOT", key)).intValue();
  }

  private int slotOwner(String key, int index) {
    return ownerIn(slots(live()), slot(key), index);
  }

  private static int ownerIn(List<List<Integer>> slots, int slot, int index) {
    for (List<Integer> s : slots) {
      if (slot >= s.get(0) && slot <= s.get(1)) {
        return index + 2 < s.size() ? s.get(index + 2) : -1;
      }
    }
    return -1;
  }

  private RedisProcess live() {
    return nodes.stream().filter(RedisProcess::isAlive).findFirst().orElseThrow();
  }

  private RedisProcess node(int port) {
    return nodes.stream().filter(n -> n.port() == port).findFirst()
      .orElseThrow(() -> new IllegalStateException("no node on port " + port));
  }

  /** {@code CLUSTER SLOTS} as [from, to, master port, replica ports...]. */
  @SuppressWarnings("unchecked")
  private static List<List<Integer>> slots(RedisProcess n) {
    List<List<Integer>> out = new ArrayList<>();
    for (Object o : (List<Object>) n.call("CLUSTER", "SLOTS")) {
      List<Object> range = (List<Object>) o;
      List<Integer> row = new ArrayList<>();
      row.add(((Long) range.get(0)).intValue());
      row.add(((Long) range.get(1)).intValue());
      for (Object ep : range.subList(2, range.size())) {
        row.add(((Long) ((List<Object>) ep).get(1)).intValue());
      }
      out.add(row);
    }
    return out;
  }

  /**
   * Leaves {@code slot} to no master (what a resharding that left it out looks like): its owner lets go first, since
   * a node that forgot the slot takes it back from any master still claiming it in its heartbeat. Waits until every
   * node sees 16,383 slots assigned. {@link #heal} does not give it back: {@code CLUSTER ADDSLOTS} on its owner does.
   */
  public void unassign(int slot, RedisProcess owner) {
    owner.call("CLUSTER", "DELSLOTS", slot);
    for (RedisProcess n : nodes) {
      if (n != owner) {
        n.call("CLUSTER", "DELSLOTS", slot);
      }
    }
    RedisProcess.await("slot " + slot + " unassigned everywhere", HEAL_TIMEOUT_MS,
      () -> nodes.stream().allMatch(n -> "16383".equals(clusterInfo(n, "cluster_slots_assigned"))));
  }

  private static String clusterInfo(RedisProcess n, String field) {
    for (String line : n.string("CLUSTER", "INFO").split("\r\n")) {
      if (line.startsWith(field + ":")) {
        return line.substring(field.length() + 1);
      }
    }
    return null;
  }
}
