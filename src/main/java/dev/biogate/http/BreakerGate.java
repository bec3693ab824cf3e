package dev.biogate.http;

import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerState;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Asks a circuit breaker whether a call may be made before anything scarce is spent on it (an upstream budget permit,
 * a client's miss quota, a rate token). The breaker refuses calls while open and lets one probe through while
 * half-open; a permit taken first was spent by every refused call (the upstream client spent its whole never-seen
 * share during an outage, and its probe then found no permit).
 */
public final class BreakerGate {

  private static final Runnable NOTHING = () -> { };

  private final CircuitBreaker breaker;
  /** Half-open: a caller is on its way to be the breaker's one probe. */
  private final AtomicBoolean probing = new AtomicBoolean();

  public BreakerGate(CircuitBreaker breaker) {
    this.breaker = breaker;
  }

  /**
   * Whether a call may be made now: closed, yes; open, no; half-open, only for the one caller that will be the probe.
   * {@code null} when not; else what to run once that call (or the decision not to make it) is over, which frees the
   * probe's place.
   */
  public Runnable pass() {
    CircuitBreakerState state = breaker.state();
    if (state == CircuitBreakerState.CLOSED) {
      return NOTHING;
    }
    return state == CircuitBreakerState.HALF_OPEN && probing.compareAndSet(false, true) ? () -> probing.set(false) : null;
  }

  /** Whether a call would be refused now (open, or half-open with its probe under way), without taking the probe's place. */
  public boolean refusing() {
    CircuitBreakerState state = breaker.state();
    return state == CircuitBreakerState.OPEN || (state == CircuitBreakerState.HALF_OPEN && probing.get());
  }
}
