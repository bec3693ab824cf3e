package dev.biogate.ops;

import dev.biogate.support.RedisProcess;
import dev.biogate.support.UnstartedHarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * A Redis loading its data set (after a restart, or a replica's full sync) refuses every data command with
 * {@code LOADING} but answers {@code INFO}, which was all the health check asked: a Cluster drill saw {@code healthy}
 * for 9 s while every master loaded and every request met {@code CLUSTERDOWN}. Here a real server is killed and
 * started again on a saved data set whose loading is slowed key by key ({@code key-load-delay}); {@code redis} must
 * read {@code down} with {@code "error":"loading"} meanwhile, and healthy once it has loaded.
 */
class RedisLoadingHealthTest extends UnstartedHarnessTest {

  @Test
  void aRedisLoadingItsDataIsDownUntilItHasLoaded(Vertx vertx, VertxTestContext ctx) {
    RedisProcess server = RedisProcess.start("loading", List.of("key-load-delay 300", "rdbcompression no"), false, false);
    h.closeLast(() -> vertx.executeBlocking(() -> {
      server.kill();
      return null;
    }));
    h.start(server.url(), new JsonObject())
      .compose(x -> h.gateway(new JsonObject().put("redis", new JsonObject().put("url", server.url()))))
      .compose(g -> h.eventually(() -> redisHealth(g).map(r -> "healthy".equals(r.getString("status"))), 10_000)
        .compose(v -> vertx.executeBlocking(() -> {
          // 10 MB saved uncompressed, then a crash: the restart loads it for about 3 s, answering LOADING between each
          // 2 MB (the health probe is asked at most once a second). Not longer: the restart waits at most 10 s for the
          // load to end, and 20 MB took longer than that on a loaded host.
          server.call("DEBUG", "POPULATE", 10_000, "slow", 1_000);
          server.call("SAVE");
          server.kill();
          return null;
        }))
        .compose(v -> {
          Future<Void> restarted = vertx.executeBlocking(() -> {
            server.restart(); // returns once it answers PING, that is once it has loaded
            return null;
          }, false);
          return h.eventually(() -> redisHealth(g).map(r -> "down".equals(r.getString("status"))
              && "loading".equals(r.getString("error"))), 15_000)
            .compose(loading -> restarted);
        })
        .compose(v -> h.eventually(() -> redisHealth(g).map(r -> "healthy".equals(r.getString("status"))), 10_000)))
      .onComplete(ctx.succeedingThenComplete());
  }

  private Future<JsonObject> redisHealth(dev.biogate.Gateway g) {
    return h.get(g, "/health").map(r -> r.bodyAsJsonObject().getJsonObject("services").getJsonObject("redis"));
  }
}
