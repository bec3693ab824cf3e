package dev.biogate.stream;

import dev.biogate.config.RedisConfig;
import dev.biogate.redis.RedisClients;
import dev.biogate.support.Eventually;
import dev.biogate.support.RedisProcess;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An ownership check that must reach a replica ({@link StreamPolicy#durableConfirm}). A drill's planned Sentinel
 * switch made two instances send the same deliveries (69 and 76 repeats): in the second before they moved, checks
 * made on the old master, whose replica had just been promoted, were lost with its other writes, while the new master
 * let another instance own the same entries. Here the replica is promoted ({@code REPLICAOF NO ONE}) under a running
 * engine: a check it no longer acknowledges fails, so the handler keeps the entry instead of doing the work.
 */
@ExtendWith(VertxExtension.class)
class DurableConfirmTest {

  private static final String STREAM = "bg:test:{durable}:s";
  private static final String GROUP = "g";

  private RedisProcess master;
  private RedisProcess replica;

  @AfterEach
  void stop() {
    if (replica != null) {
      replica.kill();
    }
    if (master != null) {
      master.kill();
    }
  }

  @Test
  void aCheckNoReplicaAcknowledgesFailsAndTheWorkIsNotDone(Vertx vertx, VertxTestContext ctx) {
    master = RedisProcess.start("durable-master", List.of(), false, false);
    replica = RedisProcess.start("durable-replica", List.of("replicaof 127.0.0.1 " + master.port()), false, false);
    Redis redis = RedisClients.create(vertx, new RedisConfig(new JsonObject().put("url", master.url())));
    List<String> seen = new CopyOnWriteArrayList<>();
    long[] acked = {-1};
    StreamHandler checking = new StreamHandler() {
      @Override
      public Future<Outcome> handle(StreamEntry e) {
        throw new IllegalStateException("the engine passes an ownership");
      }

      @Override
      public Future<Outcome> handle(StreamEntry e, Ownership ownership) {
        return ownership.confirm().transform(ar -> {
          seen.add(e.get("n") + (ar.succeeded() ? (ar.result() ? ":owned" : ":not ours") : ":" + ar.cause().getMessage()));
          return Future.succeededFuture(ar.succeeded() ? Outcome.done() : Outcome.keep(600_000));
        });
      }
    };
    StreamPolicy policy = new StreamPolicy(STREAM, GROUP).soleReader(true).pollMs(50).idlePollMaxMs(100)
      .heartbeatTtlMs(3_000).idleClaimMs(30_000).durableConfirm(() -> 1, 300, (n, wanted) -> {
        acked[0] = n;
        return n < wanted;
      });
    StreamEngine engine = new StreamEngine(redis, policy, "c1", checking, new StreamStats());
    redis.send(Request.cmd(Command.XGROUP).arg("CREATE").arg(STREAM).arg(GROUP).arg("$").arg("MKSTREAM"))
      .compose(v -> Eventually.until(vertx, () -> redis.send(Request.cmd(Command.INFO).arg("replication"))
        .map(r -> r.toString().contains(",state=online,")), 10_000, "the replica is online"))
      .compose(v -> vertx.deployVerticle(engine))
      .compose(id -> redis.send(Request.cmd(Command.XADD).arg(STREAM).arg("*").arg("n").arg("1")))
      .compose(v -> Eventually.until(vertx, () -> Future.succeededFuture(seen.size() == 1), 10_000, "the first entry"))
      .compose(v -> {
        assertEquals(1, acked[0], "one replica acknowledged the check");
        // The replica is promoted, as in a switch: the master it leaves keeps taking writes no one will keep.
        return vertx.executeBlocking(() -> replica.call("REPLICAOF", "NO", "ONE"));
      })
      .compose(v -> Eventually.until(vertx, () -> redis.send(Request.cmd(Command.INFO).arg("replication"))
        .map(r -> r.toString().contains("connected_slaves:0")), 10_000, "the master has lost its replica"))
      .compose(v -> redis.send(Request.cmd(Command.XADD).arg(STREAM).arg("*").arg("n").arg("2")))
      .compose(v -> Eventually.until(vertx, () -> Future.succeededFuture(seen.size() == 2), 10_000, "the second entry"))
      .eventually(() -> vertx.undeploy(vertx.deploymentIDs().iterator().next()).otherwiseEmpty()
        .eventually(() -> redis.close()))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertEquals(List.of("1:owned", "2:no replica acknowledged the ownership check"), seen);
        assertEquals(0, acked[0]);
        ctx.completeNow();
      })));
  }
}
