package dev.biogate.support;

import dev.biogate.Gateway;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Base of the tests that run gateways against the sandbox and the shared test Redis: a started {@link Harness} in
 * {@link #h} for each test (Redis flushed), closed with every gateway it started after the test. A test class that
 * wants one gateway up before each test names its config in {@link #gatewayOverrides()} and finds it in {@link #g}.
 * A test class whose tests start the harness themselves ({@link Harness#start(Topology)}, a dedicated Redis, the
 * simulated Klaviyo API) says so with {@link #testsStartHarness()}. A subclass's own {@code @BeforeEach} runs after
 * the harness is up, its {@code @AfterEach} before it is closed.
 */
@ExtendWith(VertxExtension.class)
public abstract class HarnessTest {

  protected Harness h;
  /** The gateway started before each test when {@link #gatewayOverrides()} is not {@code null}. */
  protected Gateway g;

  /** Raw sockets to the gateway, for tests that send what a well-behaved client cannot; made on first use. */
  private RawHttp raw;

  protected RawHttp raw() {
    if (raw == null) {
      raw = new RawHttp(h.vertx);
    }
    return raw;
  }

  /** Options of the sandbox upstream (e.g. {@code authenticateHealth}); none by default. */
  protected JsonObject sandboxOptions() {
    return new JsonObject();
  }

  /** True: {@link #h} is created but not started; each test starts it (and may not use {@link #gatewayOverrides()}). */
  protected boolean testsStartHarness() {
    return false;
  }

  /** Config overrides of a gateway to start before each test (see {@link Harness#config}); {@code null}: none. */
  protected JsonObject gatewayOverrides() {
    return null;
  }

  @BeforeEach
  void startHarness(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    if (testsStartHarness()) {
      ctx.completeNow();
      return;
    }
    JsonObject overrides = gatewayOverrides();
    h.start(TestRedis.url(), sandboxOptions())
      .compose(x -> overrides == null ? Future.<Void>succeededFuture() : h.gateway(overrides).onSuccess(gw -> g = gw).<Void>mapEmpty())
      .onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void closeHarness(VertxTestContext ctx) {
    Future<Void> rawClosed = raw == null ? Future.succeededFuture() : raw.close();
    raw = null;
    rawClosed.eventually(h::close).onComplete(ctx.succeedingThenComplete());
  }
}
