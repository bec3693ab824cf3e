package dev.biogate.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tests' wait: however many times a condition is checked, meeting it completes the wait. A wait that nested one
 * future per check overflowed the event loop's stack when a long wait finally succeeded (thousands of checks): the
 * completion was lost with the overflow and the test hung until its timeout.
 */
@ExtendWith(VertxExtension.class)
class EventuallyTest {

  private static final int CHECKS = 10_000;

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  void aConditionMetAfterManyChecksCompletesTheWait(Vertx vertx, VertxTestContext ctx) {
    AtomicInteger checks = new AtomicInteger();
    Eventually.until(vertx, () -> Future.succeededFuture(checks.incrementAndGet() >= CHECKS), 50_000, "many checks", 0)
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertEquals(CHECKS, checks.get());
        ctx.completeNow();
      })));
  }

  @Test
  void aConditionNeverMetFailsTheWaitNamingIt(Vertx vertx, VertxTestContext ctx) {
    Eventually.until(vertx, () -> Future.failedFuture("not yet"), 100, "the impossible", 5)
      .onComplete(ctx.failing(err -> ctx.verify(() -> {
        assertTrue(err instanceof AssertionError && err.getMessage().contains("the impossible"), err.toString());
        ctx.completeNow();
      })));
  }
}
