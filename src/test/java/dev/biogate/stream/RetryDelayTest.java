package dev.biogate.stream;

import io.vertx.circuitbreaker.RetryPolicy;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An entry kept at the dead letters' ceiling is retried for as long as they stay full, past {@code maxAttempts}. Found
 * in a drill: its 62nd back-off overflowed (an exception on the event loop) and the entry was never tried again, held
 * by its instance until it stopped; with as many such entries as the stream's ceiling, all event handling stopped.
 */
class RetryDelayTest {

  @Test
  void theBackOffStaysWithinItsMaximumHoweverManyAttempts() {
    RetryPolicy policy = RetryPolicy.exponentialDelayWithJitter(1_000, 600_000);
    for (int attempts : new int[] {0, 1, 20, 61, 62, 63, 100, 10_000, Integer.MAX_VALUE}) {
      long delay = HeldEntries.retryDelayMs(policy, attempts);
      assertTrue(delay >= 0 && delay <= 600_000, attempts + " attempts: " + delay);
    }
  }
}
