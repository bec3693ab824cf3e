package dev.biogate.support;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A real Sentinel group for the test JVM: one master, one replica ({@link #get()}) or two ({@link #twoReplicas()}) and
 * three Sentinels (quorum 2), all {@code redis-server} processes from the bundled binary. Started lazily and shared;
 * both wait until the group is settled (every Sentinel agrees on the master, knows the replicas and the other
 * Sentinels, and every replica is in sync), so a test that failed over leaves a usable group behind.
 */
public final class TestSentinel {

  public static final String MASTER_NAME = "biogate";
  private static final long SETTLE_TIMEOUT_MS = 30_000;
  private static TestSentinel shared;
  private static TestSentinel sharedTwoReplicas;

  private final List<RedisProcess> servers;
  private final List<RedisProcess> sentinels;

  private TestSentinel(List<RedisProcess> servers, List<RedisProcess> sentinels) {
    this.servers = servers;
    this.sentinels = sentinels;
  }

  public static synchronized TestSentinel get() {
    if (shared == null) {
      shared = form("sentinel", 1);
    }
    shared.settle();
    return shared;
  }

  /** A second group, whose master has two replicas: in a failover one is promoted, the other follows later. */
  public static synchronized TestSentinel twoReplicas() {
    if (sharedTwoReplicas == null) {
      sharedTwoReplicas = form("sentinel2", 2);
    }
    sharedTwoReplicas.settle();
    return sharedTwoReplicas;
  }

  private static TestSentinel form(String name, int replicas) {
    RedisProcess master = RedisProcess.start(name + "-master", List.of(), false, false);
    List<RedisProcess> servers = new java.util.ArrayList<>(List.of(master));
    for (int i = 0; i < replicas; i++) {
      RedisProcess replica = RedisProcess.start(name + "-replica" + (i == 0 ? "" : "-" + i),
        List.of("replicaof 127.0.0.1 " + master.port()), false, false);
      RedisProcess.await("replica in sync", SETTLE_TIMEOUT_MS,
        () -> "up".equals(Resp.info(replica.port(), "replication", "master_link_status")));
      servers.add(replica);
    }
    List<String> conf = List.of("sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + master.port() + " 2",
      "sentinel down-after-milliseconds " + MASTER_NAME + " 1000",
      "sentinel failover-timeout " + MASTER_NAME + " 5000");
    List<RedisProcess> sentinels = IntStream.range(0, 3).parallel()
      .mapToObj(i -> RedisProcess.start(name + "-" + i, conf, true, false)).collect(Collectors.toList());
    return new TestSentinel(List.copyOf(servers), sentinels);
  }

  /** Restarts killed processes and waits until the group is settled. */
  public void settle() {
    servers.forEach(RedisProcess::restart);
    sentinels.forEach(RedisProcess::restart);
    RedisProcess.await("sentinel group settled", SETTLE_TIMEOUT_MS, this::settled);
  }

  @SuppressWarnings("unchecked")
  private boolean settled() {
    int master = masterPort();
    for (RedisProcess s : sentinels) {
      List<Object> addr = (List<Object>) s.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME);
      if (addr == null || Integer.parseInt(addr.get(1).toString()) != master) {
        return false;
      }
      List<Object> replicas = (List<Object>) s.call("SENTINEL", "REPLICAS", MASTER_NAME);
      if (replicas.size() != servers.size() - 1
        || !replicas.stream().allMatch(r -> flags((List<Object>) r).equals("slave"))) {
        return false;
      }
      if (((List<Object>) s.call("SENTINEL", "SENTINELS", MASTER_NAME)).size() != sentinels.size() - 1) {
        return false;
      }
    }
    return "master".equals(Resp.info(master, "replication", "role")) && servers.stream().filter(r -> r.port() != master)
      .allMatch(r -> "up".equals(Resp.info(r.port(), "replication", "master_link_status"))
        && String.valueOf(master).equals(Resp.info(r.port(), "replication", "master_port")));
  }

  private static String flags(List<Object> fields) {
    for (int i = 0; i + 1 < fields.size(); i += 2) {
      if ("flags".equals(fields.get(i))) {
        return fields.get(i + 1).toString();
      }
    }
    return "";
  }

  /** The master's port as the first Sentinel reports it. */
  @SuppressWarnings("unchecked")
  public int masterPort() {
    List<Object> addr = (List<Object>) sentinels.get(0).call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME);
    return Integer.parseInt(addr.get(1).toString());
  }

  public RedisProcess master() {
    int port = masterPort();
    return servers.stream().filter(s -> s.port() == port).findFirst().orElseThrow();
  }

  public RedisProcess replica() {
    int port = masterPort();
    return servers.stream().filter(s -> s.port() != port).findFirst().orElseThrow();
  }

  public List<RedisProcess> sentinels() {
    return sentinels;
  }

  /** The gateway's {@code redis} config section: the Sentinels as endpoints and the master's name. */
  public JsonObject redisConfig() {
    return new JsonObject().put("type", "sentinel").put("masterName", MASTER_NAME)
      .put("endpoints", new JsonArray(sentinels.stream().map(RedisProcess::url).collect(Collectors.toList())));
  }

  public void flushAll() {
    master().call("FLUSHALL");
  }

  /**
   * {@code SENTINEL FAILOVER}: the replica is promoted and the old master reconfigured as its replica. Returns the
   * new master once every Sentinel reports it and the group has settled again.
   */
  public RedisProcess failover() {
    return failover(0);
  }

  /**
   * {@link #failover()} led by the Sentinel at {@code via} in {@link #redisConfig()}'s endpoint list: that one
   * announces the switch at once; the others learn it from its hello messages, up to two seconds later.
   */
  public RedisProcess failover(int via) {
    promote(via);
    settle();
    return master();
  }

  /**
   * {@code SENTINEL FAILOVER} led by the Sentinel at {@code via}; returns the promoted server once every Sentinel names
   * it, without waiting for the old master to follow it (it is still a master, or resyncing, for seconds after).
   */
  public RedisProcess promote(int via) {
    int old = masterPort();
    sentinels.get(via).call("SENTINEL", "FAILOVER", MASTER_NAME);
    awaitAnotherMaster(old);
    return master();
  }

  /** Waits until every Sentinel names a master other than the server on port {@code old}. */
  public void awaitAnotherMaster(int old) {
    RedisProcess.await("sentinels report a replica of " + old + " as master", SETTLE_TIMEOUT_MS, () -> {
      java.util.Set<Integer> named = new java.util.HashSet<>();
      for (RedisProcess s : sentinels) {
        @SuppressWarnings("unchecked")
        List<Object> addr = (List<Object>) s.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME);
        named.add(Integer.parseInt(addr.get(1).toString()));
      }
      return named.size() == 1 && !named.contains(old);
    });
  }
}
