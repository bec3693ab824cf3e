package dev.biogate.http;

import dev.biogate.support.Eventually;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gate the upstream client, the Klaviyo sink and the outbound destinations ask before they spend anything scarce
 * (a budget permit, a miss quota, a rate token): closed lets every call through, open none, half-open exactly one
 * probe at a time, and the probe's place is free again once its call is over.
 */
@ExtendWith(VertxExtension.class)
class BreakerGateTest {

  @Test
  void closedOpenAndHalfOpenLetThroughAllNoneAndOneProbe(Vertx vertx, VertxTestContext ctx) {
    CircuitBreaker breaker = CircuitBreaker.create("gate-test", vertx,
      new CircuitBreakerOptions().setMaxFailures(1).setResetTimeout(200).setTimeout(-1));
    BreakerGate gate = new BreakerGate(breaker);
    ctx.verify(() -> {
      assertNotNull(gate.pass(), "closed: a call may be made");
      assertNotNull(gate.pass(), "closed: and another, at the same time");
      assertFalse(gate.refusing());
    });
    breaker.execute(p -> p.fail("down")).onComplete(failed -> ctx.verify(() -> {
      assertEquals(CircuitBreakerState.OPEN, breaker.state());
      assertNull(gate.pass(), "open: no call");
      assertTrue(gate.refusing());
    })).transform(v -> Eventually.until(vertx,
      () -> Future.succeededFuture(breaker.state() == CircuitBreakerState.HALF_OPEN), 10_000, "the breaker half-open")).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertFalse(gate.refusing(), "half-open with no probe under way: a call would be let through");
      Runnable probe = gate.pass();
      assertNotNull(probe, "half-open: the first caller is the probe");
      assertNull(gate.pass(), "half-open: no second call while the probe is under way");
      assertTrue(gate.refusing());
      probe.run();
      Runnable next = gate.pass();
      assertNotNull(next, "the probe's place is free once its call is over");
      assertNull(gate.pass());
      next.run();
      ctx.completeNow();
    })));
  }
}
