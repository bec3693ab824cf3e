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
  /** How long a {@code SENTINEL FAILOVER} is given to switch before it is asked for again. */
  private static final long FAILOVER_TRY_MS = 8_000;
  private static final long STRAY_GRACE_MS = 3_000;
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

  /**
   * Restarts killed processes and waits until the group is settled. A server that still acts as a master, or follows
   * another master than the one every Sentinel names, is told to follow that one {@value #STRAY_GRACE_MS} ms after the
   * wait began: what the Sentinels do themselves, but 8 s or more after a switch (their fixed 10-s look at each
   * server), which each failover test waited for with nothing to check. The grace keeps the window in which the old
   * master still takes writes after the switch.
   */
  public void settle() {
    // A killed server comes back as a replica of the master the Sentinels name: restarted as the master its file names
    // (none keeps data here), it came back empty, and a server told to follow it before it died resynced from it,
    // emptied too (a run saw every delivery answered 200 gone from the master that remained).
    Integer master = agreedMaster();
    servers.forEach(s -> {
      if (master != null && s.port() != master) {
        s.restartAsReplicaOf(master);
      } else {
        s.restart();
      }
    });
    sentinels.forEach(RedisProcess::restart);
    long straysFollowFrom = System.currentTimeMillis() + STRAY_GRACE_MS;
    RedisProcess.await("sentinel group settled", SETTLE_TIMEOUT_MS, () -> {
      if (settled()) {
        return true;
      }
      if (System.currentTimeMillis() >= straysFollowFrom) {
        redirectStrays();
      }
      return false;
    });
  }

  /** The port of the master every running Sentinel names, if they agree and it is running; else null. */
  @SuppressWarnings("unchecked")
  private Integer agreedMaster() {
    java.util.Set<Integer> named = new java.util.HashSet<>();
    for (RedisProcess s : sentinels) {
      if (s.isAlive()) {
        List<Object> addr = (List<Object>) s.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME);
        named.add(addr == null ? -1 : Integer.parseInt(addr.get(1).toString()));
      }
    }
    if (named.size() != 1 || named.contains(-1)) {
      return null;
    }
    int port = named.iterator().next();
    return servers.stream().anyMatch(s -> s.port() == port && s.isAlive()) ? port : null;
  }

  /** Points every server that does not follow the master all Sentinels agree on at it, as a Sentinel would. */
  @SuppressWarnings("unchecked")
  private void redirectStrays() {
    java.util.Set<Integer> named = new java.util.HashSet<>();
    for (RedisProcess s : sentinels) {
      List<Object> addr = (List<Object>) s.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME);
      named.add(addr == null ? -1 : Integer.parseInt(addr.get(1).toString()));
    }
    if (named.size() != 1 || named.contains(-1)) {
      return;
    }
    int master = named.iterator().next();
    if (!"master".equals(Resp.info(master, "replication", "role"))) {
      return;
    }
    for (RedisProcess r : servers) {
      if (r.port() != master && ("master".equals(Resp.info(r.port(), "replication", "role"))
        || !String.valueOf(master).equals(Resp.info(r.port(), "replication", "master_port")))) {
        r.call("REPLICAOF", "127.0.0.1", String.valueOf(master));
      }
    }
  }

  @SuppressWarnings("unchecked")
  private boolean settled() {
    int master = masterPort();
    for (RedisProcess s : sentinels) {
      List<Object> addr = (List<Object>) s.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME);
      if (addr == null || Integer.parseInt(addr.get(1).toString()) != master) {
        return false;
      }
      // Each Sentinel's last look at each replica saw its link to a master up: one it last saw resyncing (link down
      // since a time a Redis 6 reports as the epoch) is not promoted by a SENTINEL FAILOVER (NOGOODSLAVE) until its
      // next look, a second later.
      List<Object> replicas = (List<Object>) s.call("SENTINEL", "REPLICAS", MASTER_NAME);
      if (replicas.size() != servers.size() - 1 || !replicas.stream().map(r -> (List<Object>) r).allMatch(r ->
        field(r, "flags").equals("slave") && field(r, "master-link-down-time").equals("0"))) {
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

  private static String field(List<Object> fields, String name) {
    for (int i = 0; i + 1 < fields.size(); i += 2) {
      if (name.equals(fields.get(i))) {
        return fields.get(i + 1).toString();
      }
    }
    return "";
  }

  /**
   * Waits until every Sentinel knows the master by its run id: a Sentinel that has just switched learns it at its first
   * {@code INFO} of the new master, seconds later, and names it only by address until then.
   */
  @SuppressWarnings("unchecked")
  public void awaitMasterRunIdKnown() {
    RedisProcess.await("every sentinel knows the master's run id", SETTLE_TIMEOUT_MS, () -> {
      String runId = Resp.info(masterPort(), "server", "run_id");
      return sentinels.stream().allMatch(s -> runId.equals(field((List<Object>) s.call("SENTINEL", "MASTER", MASTER_NAME), "runid")));
    });
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
    long deadline = System.currentTimeMillis() + SETTLE_TIMEOUT_MS;
    while (true) {
      try {
        // Never asked again once any Sentinel names another master: that would fail the new master over in turn.
        if (!anyNamesAnother(old)) {
          sentinels.get(via).call("SENTINEL", "FAILOVER", MASTER_NAME);
        }
      } catch (Resp.Error inProgressOrNoCandidate) {
        // INPROG: the last request is still under way; NOGOODSLAVE: asked again below, once the Sentinel looked again.
      }
      try {
        // A failover a Sentinel accepted can still end without a switch (aborted when it finds no good replica after
        // all): asked again, within the settle timeout.
        RedisProcess.await("sentinels report a replica of " + old + " as master", FAILOVER_TRY_MS, () -> anotherMaster(old));
        return master();
      } catch (AssertionError notYet) {
        if (System.currentTimeMillis() > deadline) {
          throw notYet;
        }
      }
    }
  }

  /** Waits until every Sentinel names a master other than the server on port {@code old}. */
  public void awaitAnotherMaster(int old) {
    RedisProcess.await("sentinels report a replica of " + old + " as master", SETTLE_TIMEOUT_MS, () -> anotherMaster(old));
  }

  private boolean anyNamesAnother(int old) {
    for (RedisProcess s : sentinels) {
      @SuppressWarnings("unchecked")
      List<Object> addr = (List<Object>) s.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME);
      if (addr != null && Integer.parseInt(addr.get(1).toString()) != old) {
        return true;
      }
    }
    return false;
  }

  private boolean anotherMaster(int old) {
    java.util.Set<Integer> named = new java.util.HashSet<>();
    for (RedisProcess s : sentinels) {
      @SuppressWarnings("unchecked")
      List<Object> addr = (List<Object>) s.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME);
      named.add(Integer.parseInt(addr.get(1).toString()));
    }
    return named.size() == 1 && !named.contains(old);
  }
}
