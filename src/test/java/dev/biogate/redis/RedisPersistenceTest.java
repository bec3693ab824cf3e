package dev.biogate.redis;

import dev.biogate.support.LogCapture;
import dev.biogate.support.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A drill restarted a Redis without persistence: every redelivered webhook was accepted and processed again, and
 * nothing had warned the operator. The gateway now says so once at start-up.
 */
@ExtendWith(VertxExtension.class)
class RedisPersistenceTest {

  private EmbeddedRedis server;
  private Redis redis;

  @AfterEach
  void stop() throws Exception {
    if (redis != null) {
      redis.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void aRedisKeepingNothingIsReportedAndOneWithAofIsNot(Vertx vertx, VertxTestContext ctx) {
    server = TestRedis.dedicated();
    redis = Redis.createClient(vertx, server.url());
    LogCapture capture = LogCapture.of(RedisPersistence.class, e -> e.getLevel() + " " + e.getFormattedMessage());
    RedisPersistence.warnIfVolatile(redis)
      .compose(warned -> redis.send(Request.cmd(Command.CONFIG).arg("SET").arg("appendonly").arg("yes"))
        .compose(v -> RedisPersistence.warnIfVolatile(redis)).map(again -> new boolean[] {warned, again}))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        capture.close();
        assertTrue(r[0], "no AOF, no save points: warned");
        assertFalse(r[1], "with AOF: not warned");
        assertEquals(1, capture.lines().stream().filter(l -> l.startsWith("WARN redis keeps nothing across a restart")).count(),
          capture.lines().toString());
        ctx.completeNow();
      })));
  }
}
