package dev.biogate.cluster;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.TestCluster;
import dev.biogate.support.TestSentinel;
import dev.biogate.support.Topology;
import dev.biogate.support.UnstartedHarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A running gateway across Redis failures: a Cluster master dying, a Sentinel failover. The gateway's long-lived
 * connection must neither hang nor stay pointed at a node that no longer serves.
 */
class FailoverTest extends UnstartedHarnessTest {

  /**
   * Nodes this class killed come back before the next class starts: healing (a restarted master rejoining as a replica
   * and syncing) took longer than a test's 30-s limit once, in whichever test asked for the cluster next.
   */
  @org.junit.jupiter.api.AfterAll
  static void healTheSharedCluster() {
    TestCluster.get();
  }

  private static final List<String> USERS = List.of("demo", "alice", "bob");

  private Future<Gateway> readyGateway(Vertx vertx, Topology topology) {
    return h.start(topology).compose(x -> h.gateway(new JsonObject())).compose(g -> h.eventually(() ->
      h.get(g, "/health/ready").map(r -> r.statusCode() == 200), 15_000).map(g));
  }

  @Test
  void aDeadClusterMasterDoesNotStopReadsOfProfilesOnTheOtherMasters(Vertx vertx, VertxTestContext ctx) {
    TestCluster cluster = TestCluster.get();
    Set<RedisProcess> used = USERS.stream()
      .flatMap(u -> List.of(RedisKeys.profile(u), RedisKeys.fetchLock(u)).stream())
      .map(cluster::masterOf).collect(Collectors.toSet());
    used.add(cluster.masterOf(RedisKeys.budgetLog("linktree")));
    // The link-owner index is sharded over every master; writing it is best effort after the copy is stored
    // (ProfileStore#store), so a dead master holding one of its shards does not stop a read.
    RedisProcess victim = cluster.masters().stream().filter(m -> !used.contains(m)).findFirst()
      .orElseThrow(() -> new IllegalStateException("every master holds a key of the read path; pick other users"));
    readyGateway(vertx, Topology.CLUSTER)
      .compose(g -> vertx.executeBlocking(() -> {
        victim.kill();
        return g;
      }))
      .compose(g -> {
        List<Future<?>> reads = new ArrayList<>();
        for (String u : USERS) {
          reads.add(h.get(g, "/v1/profiles/" + u).map(r -> {
            ctx.verify(() -> assertEquals(200, r.statusCode(), u + " read while a master is down"));
            return r;
          }));
        }
        return Future.all(reads).map(g);
      })
      // /health says so while the master is dead (it used to ask one surviving master and say healthy); the instance
      // stays ready: it serves, and one shard must not take every instance out of the balancer.
      .compose(g -> h.eventually(() -> h.get(g, "/health").map(r -> {
          JsonObject redis = r.bodyAsJsonObject().getJsonObject("services").getJsonObject("redis");
          return r.statusCode() == 200 && "degraded".equals(redis.getString("status")) && redis.getInteger("unreachableMasters", 0) == 1;
        }), 10_000)
        .compose(v -> h.get(g, "/health/ready")).map(ready -> {
          ctx.verify(() -> assertEquals(200, ready.statusCode(), ready.bodyAsString()));
          return g;
        }))
      .compose(g -> h.sandboxStats())
      .onComplete(ctx.succeeding(stats -> ctx.verify(() -> {
        assertFalse(victim.isAlive());
        JsonObject byPath = stats.getJsonObject("by_path", new JsonObject());
        for (String u : USERS) {
          assertEquals(1, byPath.getInteger("/profiles/" + u, 0), "one upstream fetch for " + u);
        }
        ctx.completeNow();
      })));
  }

  /**
   * A slot no master serves (an operator's resharding left it out, {@code cluster-require-full-coverage no}): every
   * master still answers PING, so only the slot map shows it. {@code /health} reports {@code redis} degraded with
   * {@code uncoveredSlots}, and the instance stays ready. The slot is given back to its master afterwards.
   */
  @Test
  void aSlotNoMasterServesMakesHealthDegradedAndTheInstanceStaysReady(Vertx vertx, VertxTestContext ctx) {
    TestCluster cluster = TestCluster.get();
    String probe = "uncovered-slot-probe";
    int slot = cluster.slot(probe);
    RedisProcess owner = cluster.masterOf(probe);
    // The harness first (it waits for a whole cluster), then the slot is taken away, then the gateway starts.
    h.start(Topology.CLUSTER).compose(x -> vertx.executeBlocking(() -> {
        cluster.unassign(slot, owner);
        return null;
      }))
      .compose(v -> h.gateway(new JsonObject()))
      .compose(g -> h.eventually(() -> h.get(g, "/health").map(r -> {
          JsonObject redis = r.bodyAsJsonObject().getJsonObject("services").getJsonObject("redis");
          return r.statusCode() == 200 && "degraded".equals(redis.getString("status"))
            && redis.getInteger("uncoveredSlots", 0) == 1 && !redis.containsKey("unreachableMasters");
        }), 10_000)
        .compose(v -> h.get(g, "/health/ready")))
      .eventually(() -> vertx.executeBlocking(() -> {
        owner.call("CLUSTER", "ADDSLOTS", slot);
        cluster.heal();
        return null;
      }))
      .onComplete(ctx.succeeding(ready -> ctx.verify(() -> {
        assertEquals(200, ready.statusCode(), ready.bodyAsString());
        ctx.completeNow();
      })));
  }

  @Tag("drill")
  @Test
  void aGatewayWritesToTheNewMasterAfterASentinelFailover(Vertx vertx, VertxTestContext ctx) {
    TestSentinel group = TestSentinel.get();
    readyGateway(vertx, Topology.SENTINEL)
      .compose(g -> h.get(g, "/v1/profiles/bob").map(r -> {
        ctx.verify(() -> assertEquals(200, r.statusCode()));
        return g;
      }))
      .compose(g -> vertx.executeBlocking(() -> {
        group.failover();
        return g;
      }))
      // The old master, now a replica, answers writes with READONLY: the gateway's connection must move over.
      .compose(g -> h.eventually(() -> g.redis().send(Request.cmd(Command.SET).arg("bg:probe").arg("1")).map(true), 15_000)
        .compose(v -> h.get(g, "/v1/profiles/alice")).map(r -> {
          ctx.verify(() -> assertEquals(200, r.statusCode()));
          return g;
        }))
      .compose(g -> h.eventually(() -> vertx.executeBlocking(() ->
        Long.valueOf(1).equals(group.master().call("EXISTS", RedisKeys.profile("alice")))), 5_000))
      .compose(v -> h.gateway(new JsonObject()).compose(b -> h.get(b, "/v1/profiles/alice")))
      .onComplete(ctx.succeeding(fromB -> ctx.verify(() -> {
        assertEquals(200, fromB.statusCode());
        assertEquals("biogate; hit; detail=shared", fromB.getHeader("Cache-Status"), "the copy written after the failover is shared");
        ctx.completeNow();
      })));
  }
}
