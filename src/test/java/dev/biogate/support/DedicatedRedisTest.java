package dev.biogate.support;

import dev.biogate.redis.EmbeddedRedis;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;

/**
 * Base of the tests that stop and restart Redis under running gateways: each test gets a redis-server of its own
 * ({@link TestRedis#dedicated()}) in {@link #redis} and a {@link Harness} started on it in {@link #h}; both are closed
 * after the test.
 */
@ExtendWith(VertxExtension.class)
public abstract class DedicatedRedisTest {

  protected Harness h;
  protected EmbeddedRedis redis;

  @BeforeEach
  void startDedicatedRedis(Vertx vertx, VertxTestContext ctx) {
    redis = TestRedis.dedicated();
    h = new Harness(vertx);
    h.start(redis.url(), new JsonObject()).onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stopDedicatedRedis(VertxTestContext ctx) {
    h.close().onComplete(ar -> {
      try {
        redis.close();
      } catch (IOException e) {
        ctx.failNow(e);
        return;
      }
      ctx.completeNow();
    });
  }
}
