package dev.biogate.webhook;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The body budget's size when none is configured, and that a refused reservation takes nothing. */
class BodyBudgetTest {

  @Test
  void anEighthOfTheHeapByDefaultAndNeverLessThan16MiB() {
    assertEquals(20L << 20, BodyBudget.of(0, 160L << 20).capacity(), "the recommended 160 MiB heap");
    assertEquals(16L << 20, BodyBudget.of(0, 64L << 20).capacity(), "a small heap still takes 64 full-size bodies");
    assertEquals(5_000, BodyBudget.of(5_000, 160L << 20).capacity(), "configured");
    assertEquals(1L << 30, BodyBudget.of(0, Long.MAX_VALUE).capacity(), "no heap limit");
  }

  @Test
  void aReservationThatDoesNotFitTakesNothing() {
    BodyBudget budget = new BodyBudget(100);
    assertTrue(budget.reserve(60));
    assertFalse(budget.reserve(41));
    assertTrue(budget.reserve(40), "the refused 41 took nothing");
    budget.release(60);
    assertTrue(budget.reserve(60));
    assertFalse(budget.reserve(1));
  }

  @Test
  void aClientHoldsASixteenthButAlwaysOneLargestBodyAndItsRefusalTakesNothing() {
    assertEquals((20L << 20) / 16, BodyBudget.of(0, 160L << 20, 256 * 1024, 1_000).perClient(), "a sixteenth of 20 MiB");
    assertEquals(256 * 1024, BodyBudget.of(1 << 20, 160L << 20, 256 * 1024, 1_000).perClient(), "at least one largest body");
    assertEquals(100, BodyBudget.of(100, 160L << 20, 256 * 1024, 1_000).perClient(), "never more than the budget");
    BodyBudget budget = new BodyBudget(1600, 50);
    assertTrue(budget.reserve("a", 100));
    assertFalse(budget.reserve("a", 1), "past a's share");
    assertTrue(budget.reserve("b", 100), "b has its own");
    budget.release("a", 100);
    assertTrue(budget.reserve("a", 100), "a's share given back");
    budget.release("a", 100);
    budget.release("b", 100);
    assertEquals(0, budget.clients(), "no entry outlives its reservations");
    assertTrue(budget.reserve(1600), "nothing held");
  }
}
