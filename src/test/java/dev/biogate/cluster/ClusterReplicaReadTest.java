package dev.biogate.cluster;

import dev.biogate.redis.RedisKeys;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.ThreeMasters;
import dev.biogate.support.UnstartedHarnessTest;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * On a Cluster, a profile whose master does not answer is read from that master's replica by an instance that holds
 * no copy of it, rather than answered 503 when the upstream cannot be called. Found in a Cluster drill: 12 reads of
 * profiles served before got {@code 503 upstream_unavailable} while their master was killed or frozen, each on an
 * instance without the copy in memory (two of them restarted meanwhile) whose fetch the budget refused.
 * <p>
 * The master holding bob's key is frozen (SIGSTOP) and its replica is told never to take over, so the read can only be
 * answered from the replica; the upstream is down, so it cannot be answered by a fetch.
 */
class ClusterReplicaReadTest extends UnstartedHarnessTest {

  private final List<RedisProcess> nodes = new ArrayList<>();

  @Test
  void aProfileWhoseMasterIsFrozenIsReadFromItsReplica(Vertx vertx, VertxTestContext ctx) {
    h.closeLast(() -> vertx.executeBlocking(() -> {
      nodes.forEach(RedisProcess::kill);
      return null;
    }));
    RedisProcess[] frozen = new RedisProcess[1];
    vertx.executeBlocking(() -> {
      JsonObject redis = ThreeMasters.form(nodes, "replica-read", conf());
      frozen[0] = ThreeMasters.masterOf(nodes, RedisKeys.profile("bob"));
      addReplica(frozen[0]);
      return redis;
    })
      .compose(redis -> h.startOn(redis))
      .compose(x -> h.gateway(new JsonObject()))
      .compose(a -> h.gateway(new JsonObject()).compose(b -> h.get(a, "/v1/profiles/bob").compose(first -> {
        ctx.verify(() -> assertEquals(200, first.statusCode(), first.bodyAsString()));
        return vertx.executeBlocking(() -> {
          RedisProcess replica = nodes.get(nodes.size() - 1);
          long written = offset(frozen[0].string("INFO", "replication"), "master_repl_offset:");
          RedisProcess.await("bob's copy on the replica", 10_000,
            () -> offset(replica.string("INFO", "replication"), "slave_repl_offset:") >= written);
          frozen[0].pause();
          return null;
        });
      })
      .compose(v -> h.fault(new JsonObject().put("mode", "down")))
      // b has never read bob: no copy in memory.
      .compose(v -> h.get(b, "/v1/profiles/bob"))))
      .eventually(() -> vertx.executeBlocking(() -> {
        frozen[0].resume();
        return null;
      }))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals(200, r.statusCode(), r.bodyAsString());
        assertEquals("bob", r.bodyAsJsonObject().getString("username"), r.bodyAsString());
        ctx.completeNow();
      })));
  }

  /** A replica of {@code master} that never takes over (the test keeps the master frozen as long as it likes). */
  private void addReplica(RedisProcess master) {
    List<String> conf = new ArrayList<>(conf());
    conf.add("cluster-replica-no-failover yes");
    RedisProcess replica = RedisProcess.start("replica-read-r", conf, false, true);
    nodes.add(replica);
    nodes.get(0).call("CLUSTER", "MEET", "127.0.0.1", replica.port());
    String masterId = master.string("CLUSTER", "MYID");
    RedisProcess.await("the replica knows its master", 15_000, () -> replica.string("CLUSTER", "NODES").contains(masterId));
    replica.call("CLUSTER", "REPLICATE", masterId);
    RedisProcess.await("the replica in sync", 15_000,
      () -> replica.string("INFO", "replication").contains("master_link_status:up"));
    RedisProcess.await("every node sees the replica", 15_000, () -> nodes.subList(0, 3).stream()
      .allMatch(n -> n.string("CLUSTER", "NODES").lines().filter(l -> l.contains("slave")).anyMatch(l -> l.contains(masterId))));
  }

  private static long offset(String info, String field) {
    return info.lines().filter(l -> l.startsWith(field)).mapToLong(l -> Long.parseLong(l.substring(field.length()).trim()))
      .findFirst().orElse(-1);
  }

  private static List<String> conf() {
    return List.of("cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 1000",
      "cluster-require-full-coverage no");
  }
}
