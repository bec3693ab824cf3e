package dev.biogate.support;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Redis;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

/** For tests of one component against the shared test Redis: a client per test ({@link TestRedis#client}), closed after it. */
@ExtendWith(VertxExtension.class)
public abstract class RedisClientTest {

  protected Redis redis;

  @BeforeEach
  void openRedisClient(Vertx vertx) {
    redis = TestRedis.client(vertx);
  }

  @AfterEach
  void closeRedisClient() {
    redis.close();
  }
}
