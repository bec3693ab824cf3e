package dev.biogate.ops;

import dev.biogate.support.HarnessTest;
import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Redis;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /health} and {@code /health/ready} are open on the client port and never rate-limited. Found by an attacker
 * pass: each probe sent its own commands to the shared Redis, so any client drove Redis at its own request rate
 * (1,750 probes/s, 4,263 commands/s). Redis's state and the peers' breaker are now asked at most once a second.
 */
class HealthProbeCostTest extends HarnessTest {

  private static final int PROBES = 100;

  @Override
  protected JsonObject gatewayOverrides() {
    return new JsonObject();
  }

  @Test
  void aBurstOfProbesCostsRedisAFewCommandsNotOneEach(Vertx vertx, VertxTestContext ctx) {
    Redis redis = TestRedis.client(vertx);
    long[] before = new long[1];
    long started = System.currentTimeMillis();
    TestRedis.commandCalls(redis, "ping", "info", "exists")
      .compose(n -> {
        before[0] = n;
        Future<?> chain = Future.succeededFuture();
        for (int i = 0; i < PROBES; i++) {
          String path = i % 2 == 0 ? "/health" : "/health/ready";
          chain = chain.compose(v -> h.get(g, path).map(r -> {
            assertEquals(200, r.statusCode(), r.bodyAsString());
            assertEquals("healthy", r.bodyAsJsonObject().getJsonObject("services").getJsonObject("redis").getString("status"));
            return null;
          }));
        }
        return chain;
      })
      .compose(v -> TestRedis.commandCalls(redis, "ping", "info", "exists"))
      .eventually(redis::close)
      .onComplete(ctx.succeeding(after -> ctx.verify(() -> {
        long seconds = (System.currentTimeMillis() - started) / 1000 + 1;
        long commands = after - before[0];
        // At most two per second of probing (Redis's state and the peers' breaker), whatever else the gateway sends.
        assertTrue(commands <= 2 * seconds + 4, commands + " PING/INFO/EXISTS for " + PROBES + " probes in " + seconds + " s");
        ctx.completeNow();
      })));
  }
}
