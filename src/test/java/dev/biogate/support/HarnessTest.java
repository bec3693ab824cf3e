package dev.biogate.support;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Base of the tests that run gateways against the sandbox and the shared test Redis: a started {@link Harness} in
 * {@link #h} for each test (Redis flushed), closed with every gateway it started after the test.
 */
@ExtendWith(VertxExtension.class)
public abstract class HarnessTest {

  protected Harness h;

  /** Options of the sandbox upstream (e.g. {@code authenticateHealth}); none by default. */
  protected JsonObject sandboxOptions() {
    return new JsonObject();
  }

  @BeforeEach
  void startHarness(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    h.start(TestRedis.url(), sandboxOptions()).onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void closeHarness(VertxTestContext ctx) {
    h.close().onComplete(ctx.succeedingThenComplete());
  }
}
