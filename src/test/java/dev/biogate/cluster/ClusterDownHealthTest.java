package dev.biogate.cluster;

import dev.biogate.support.RedisProcess;
import dev.biogate.support.UnstartedHarnessTest;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A master that answers but refuses its slots ({@code cluster_state:fail}, every command {@code CLUSTERDOWN}) makes
 * {@code /health} degraded, and all of them refusing makes Redis down. A drill restarting a whole Cluster saw
 * {@code healthy} (and ready) as soon as one node was back in state, while the others still answered
 * {@code CLUSTERDOWN} for up to 0.8 s: each master answered {@code INFO}, which was all the check asked.
 *
 * <p>A Cluster of its own (three masters, no replicas), since the test puts a master out of state: that master
 * forgets another one (so it sees a third of the slots unserved), which leaves it in {@code cluster_state:fail}
 * while the other two, and the slot map the gateway reads from the first master, stay whole.
 */
class ClusterDownHealthTest extends UnstartedHarnessTest {

  private final List<RedisProcess> nodes = new ArrayList<>();

  @Test
  void aMasterRefusingItsSlotsMakesHealthDegradedAndAllOfThemDown(Vertx vertx, VertxTestContext ctx) {
    // The nodes are stopped once the gateway is.
    h.closeLast(() -> vertx.executeBlocking(() -> {
      nodes.forEach(RedisProcess::kill);
      return null;
    }));
    vertx.executeBlocking(this::formCluster)
      .compose(redis -> h.startOn(redis))
      .compose(x -> h.gateway(new JsonObject()))
      .compose(g -> h.eventually(() -> redisHealth(g).map(r -> "healthy".equals(r.getString("status"))), 15_000)
        // The third master loses sight of the second: it answers INFO and PING, and refuses its slots.
        .compose(v -> vertx.executeBlocking(() -> {
          nodes.get(2).call("CLUSTER", "FORGET", nodes.get(1).string("CLUSTER", "MYID"));
          RedisProcess.await("the third master in cluster_state:fail", 10_000,
            () -> nodes.get(2).string("CLUSTER", "INFO").contains("cluster_state:fail"));
          return null;
        }))
        .compose(v -> h.eventually(() -> redisHealth(g).map(r -> r.getInteger("clusterDownMasters", 0) == 1), 10_000))
        .compose(v -> redisHealth(g).map(r -> {
          ctx.verify(() -> {
            assertEquals("degraded", r.getString("status"), r.encode());
            assertEquals(3, r.getInteger("masters"), r.encode());
          });
          return null;
        }))
        // The other two as well: no master serves anything, Redis is down (ready only while holding copies).
        .compose(v -> vertx.executeBlocking(() -> {
          String third = nodes.get(2).string("CLUSTER", "MYID");
          nodes.get(0).call("CLUSTER", "FORGET", third);
          nodes.get(1).call("CLUSTER", "FORGET", third);
          RedisProcess.await("every master in cluster_state:fail", 10_000,
            () -> nodes.stream().allMatch(n -> n.string("CLUSTER", "INFO").contains("cluster_state:fail")));
          return null;
        }))
        // (The slot map read again from the first master no longer names the third: every master it names refuses.)
        .compose(v -> h.eventually(() -> redisHealth(g).map(r -> "down".equals(r.getString("status"))
          && r.getInteger("masters") > 0 && r.getInteger("clusterDownMasters", 0) == r.getInteger("masters")), 10_000))
        .compose(v -> h.get(g, "/health/ready")))
      .onComplete(ctx.succeeding(ready -> ctx.verify(() -> {
        assertEquals(503, ready.statusCode(), ready.bodyAsString());
        ctx.completeNow();
      })));
  }

  private io.vertx.core.Future<JsonObject> redisHealth(dev.biogate.Gateway g) {
    return h.get(g, "/health").map(r -> r.bodyAsJsonObject().getJsonObject("services").getJsonObject("redis"));
  }

  /** Three masters, a third of the slots each, every node in {@code cluster_state:ok}; the gateway's redis section. */
  private JsonObject formCluster() {
    List<String> conf = List.of("cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 1000",
      "cluster-require-full-coverage yes");
    for (int i = 0; i < 3; i++) {
      nodes.add(RedisProcess.start("down-" + i, conf, false, true));
    }
    for (RedisProcess n : nodes.subList(1, 3)) {
      nodes.get(0).call("CLUSTER", "MEET", "127.0.0.1", n.port());
    }
    int[][] ranges = {{0, 5460}, {5461, 10922}, {10923, 16383}};
    for (int m = 0; m < 3; m++) {
      List<Object> cmd = new ArrayList<>(List.of("CLUSTER", "ADDSLOTS"));
      IntStream.rangeClosed(ranges[m][0], ranges[m][1]).forEach(cmd::add);
      nodes.get(m).call(cmd.toArray());
    }
    RedisProcess.await("every node in cluster_state:ok", 15_000,
      () -> nodes.stream().allMatch(n -> n.string("CLUSTER", "INFO").contains("cluster_state:ok")));
    return new JsonObject().put("type", "cluster")
      .put("endpoints", new JsonArray(nodes.stream().map(RedisProcess::url).collect(Collectors.toList())));
  }
}
