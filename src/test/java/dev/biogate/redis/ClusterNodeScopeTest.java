package dev.biogate.redis;

import dev.biogate.config.RedisConfig;
import dev.biogate.support.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A Cluster node's client belongs to the gateway, not to whichever verticle first asked for that node. Vert.x closes
 * the clients created inside a verticle when the verticle is undeployed, so a node first reached from an HTTP
 * verticle (after a failover moved its slots) was closed when the listeners stopped: a Cluster drill saw a clean stop
 * log "redis connection not replaced yet: Client is closed" and lose the invalidation subscription.
 */
@ExtendWith(VertxExtension.class)
class ClusterNodeScopeTest {

  @Test
  void aNodeFirstReachedFromAVerticleOutlivesIt(Vertx vertx, VertxTestContext ctx) {
    TestCluster cluster = TestCluster.get();
    RedisConfig config = new RedisConfig(cluster.redisConfig().put("commandTimeoutMs", 2_000));
    // Not warmed up: as after a failover, the nodes are first met by a command sent from a verticle.
    Redis redis = new ClusterRedis(vertx, RedisClients.options(config), config.commandTimeoutMs());
    Promise<Void> used = Promise.promise();
    // The verticle sends the client's first commands: the topology is read and every node created from its context.
    vertx.deployVerticle(new VerticleBase() {
      @Override
      public Future<?> start() {
        Future<?> all = Future.all(redis.send(Request.cmd(Command.SET).arg("scope:{a}").arg("1")),
          redis.send(Request.cmd(Command.SET).arg("scope:{b}").arg("1")),
          redis.send(Request.cmd(Command.SET).arg("scope:{c}").arg("1")));
        return all.onComplete(ar -> used.handle(ar.mapEmpty()));
      }
    })
      .compose(id -> used.future().compose(v -> vertx.undeploy(id)))
      // Outside any verticle now: every node must still answer.
      .compose(v -> Future.all(redis.send(Request.cmd(Command.GET).arg("scope:{a}")),
        redis.send(Request.cmd(Command.GET).arg("scope:{b}")),
        redis.send(Request.cmd(Command.GET).arg("scope:{c}"))))
      .eventually(redis::close)
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        for (int i = 0; i < 3; i++) {
          assertEquals("1", all.resultAt(i).toString());
        }
        ctx.completeNow();
      })));
  }
}
