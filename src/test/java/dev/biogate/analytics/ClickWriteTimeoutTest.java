package dev.biogate.analytics;

import dev.biogate.redis.RedisErrors;
import dev.biogate.redis.ReplicaWatch;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.Sharded;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A click write that Redis does not answer in time fails as Redis trouble, so the LinkMe click event whose handler
 * made it is held rather than spending an attempt. A re-drill froze Redis (SIGSTOP) under load: three LinkMe clicks
 * spent an attempt each on this writer's own bound ({@code analytics.redisTimeoutMs}), a plain timeout, although a
 * Redis call through the client that timed out was already held.
 */
@ExtendWith(VertxExtension.class)
class ClickWriteTimeoutTest {

  @Test
  void aClickWriteToAFrozenRedisFailsAsRedisTrouble(Vertx vertx, VertxTestContext ctx) {
    RedisProcess frozen = RedisProcess.start("frozen-clicks", List.of(), false, false);
    Redis redis = Redis.createClient(vertx, frozen.url());
    ClickStreamWriter writer = new ClickStreamWriter(redis, Sharded.SHARDS, 10_000, 200, stream -> { },
      new ReplicaWatch(vertx, redis, "off", Sharded.SHARDS.count()), 0);
    ClickEvent click = new ClickEvent("frozen-1", "carol", "lnk_carol_01", 1_796_500_000_000L, ClickEvent.SOURCE_LINKME);
    redis.send(Request.cmd(Command.PING))
      .compose(v -> vertx.executeBlocking(() -> {
        frozen.pause();
        return null;
      }))
      .compose(v -> writer.write(List.of(click)))
      .transform(ar -> vertx.executeBlocking(() -> {
        frozen.resume();
        frozen.kill();
        return ar;
      }))
      .eventually(redis::close)
      .onComplete(ctx.succeeding(ar -> ctx.verify(() -> {
        assertTrue(ar.failed(), "the write to a frozen Redis failed");
        assertTrue(RedisErrors.unavailable(ar.cause()), "counted as Redis trouble: " + ar.cause());
        ctx.completeNow();
      })));
  }
}
