package dev.biogate.destination;

import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Redis;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A destination's rate is one token bucket in Redis shared by every instance: two instances (two clients of a real
 * Redis) together get what one would, never twice the rate. The clock is passed in, so the bound is checked exactly.
 */
@ExtendWith(VertxExtension.class)
class DestinationRateTest {

  private Redis one;
  private Redis two;

  @BeforeEach
  void connect(Vertx vertx) {
    one = Redis.createClient(vertx, TestRedis.url());
    two = Redis.createClient(vertx, TestRedis.url());
  }

  @AfterEach
  void close() {
    one.close();
    two.close();
  }

  @Test
  void twoInstancesShareOneBucketBurstThenRate(VertxTestContext ctx) {
    String name = "d-" + UUID.randomUUID();
    List<DestinationRate> instances = List.of(new DestinationRate(one), new DestinationRate(two));
    AtomicInteger granted = new AtomicInteger();
    // Virtual time: every 10 ms for 10 s, each instance asks for a token (1,000 asks each, far above the rate).
    Future<Void> run = Future.succeededFuture();
    for (int step = 0; step <= 1_000; step++) {
      long now = 1_000_000 + step * 10L;
      for (DestinationRate instance : instances) {
        run = run.compose(v -> instance.take(name, 4, now).map(token -> {
          if (token.granted()) {
            granted.incrementAndGet();
            assertTrue(token.nextMs() >= 0 && token.nextMs() <= 250, "the wait until the token after this: " + token.nextMs());
          } else {
            assertTrue(token.nextMs() >= 1 && token.nextMs() <= 250, "the wait until the next token: " + token.nextMs());
          }
          return null;
        }));
      }
    }
    run.onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      // 4 at once (one second's worth), then 4 per second for 10 s: at most 44 over both instances (not 88), and no
      // fewer than the refill allows (the last token may land a step late in floating point).
      assertTrue(granted.get() <= 44 && granted.get() >= 43, "granted " + granted.get());
      ctx.completeNow();
    })));
  }

  @Test
  void aBucketNeverRefillsBackwardsWhenInstanceClocksDisagree(VertxTestContext ctx) {
    String name = "d-" + UUID.randomUUID();
    DestinationRate ahead = new DestinationRate(one);
    DestinationRate behind = new DestinationRate(two);
    AtomicInteger granted = new AtomicInteger();
    Future<Void> run = Future.succeededFuture();
    // The bucket is emptied at t = 10 s by the instance whose clock is ahead; the other, 5 s behind, asks 100 times
    // over its next second: it must get no more than the second's own tokens.
    for (int i = 0; i < 3; i++) {
      run = run.compose(v -> ahead.take(name, 2, 10_000).mapEmpty());
    }
    for (int step = 0; step < 100; step++) {
      long now = 5_000 + step * 10L;
      run = run.compose(v -> behind.take(name, 2, now).map(token -> {
        if (token.granted()) {
          granted.incrementAndGet();
        }
        return null;
      }));
    }
    run.onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertEquals(0, granted.get(), "a clock behind the bucket's adds nothing");
      ctx.completeNow();
    })));
  }
}
