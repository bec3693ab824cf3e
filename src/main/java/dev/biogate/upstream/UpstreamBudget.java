package dev.biogate.upstream;

import io.vertx.core.Future;

/**
 * Permits to call the upstream API. Every upstream request takes one permit first. A denied permit fails with
 * {@link UpstreamException} of kind {@link UpstreamException.Kind#BUDGET_EXHAUSTED} carrying the time until the
 * next permit.
 */
public interface UpstreamBudget {

  /** A permit for one call; the caller settles it when the call has completed. */
  Future<Permit> acquire(Lane lane);

  /** The upstream answered 429: nobody may call it until {@code retryAfterMs} from now. */
  void backOff(long retryAfterMs);

  /** The upstream reported its remaining quota ({@code X-RateLimit-Remaining}). */
  default void observeRemaining(int remaining) {
  }

  /** Milliseconds until calls are allowed again after a 429, 0 when not blocked. */
  long blockedForMs();

  /**
   * A local, round-trip-free answer to "would this lane be denied right now?": the time until the lane can expect a
   * permit, as last learned from the budget, or 0 when it should ask. Lets a miss storm fail fast; asked in place of
   * {@link #acquire}, so a positive answer is a refused permit.
   */
  default long deniedForMs(Lane lane) {
    return blockedForMs();
  }
}
