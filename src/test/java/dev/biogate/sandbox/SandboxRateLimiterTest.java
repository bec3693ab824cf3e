package dev.biogate.sandbox;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SandboxRateLimiterTest {

  private final AtomicLong now = new AtomicLong(1_000_000);
  private final SandboxRateLimiter limiter = new SandboxRateLimiter(3, 60_000, now::get);

  @Test
  void neverAdmitsMoreThanTheLimitInAnySlidingWindow() {
    limiter.tryAcquire("t");
    now.addAndGet(20_000);
    limiter.tryAcquire("t");
    now.addAndGet(20_000);
    assertEquals(0, limiter.tryAcquire("t").remaining());
    now.addAndGet(19_999);
    SandboxRateLimiter.Decision rejected = limiter.tryAcquire("t");
    assertFalse(rejected.allowed());
    // The oldest request leaves the window 1 ms from now: still a whole second.
    assertEquals(1, rejected.retryAfterSeconds());
    now.addAndGet(1);
    assertTrue(limiter.tryAcquire("t").allowed());
    assertFalse(limiter.tryAcquire("t").allowed());
  }

  @Test
  void retryAfterIsTheWholeSecondsUntilTheOldestRequestLeavesTheWindow() {
    for (int i = 0; i < 3; i++) {
      limiter.tryAcquire("t");
    }
    now.addAndGet(15_500);
    assertEquals(45, limiter.tryAcquire("t").retryAfterSeconds());
  }

  @Test
  void rejectedRequestsDoNotDelayRecovery() {
    for (int i = 0; i < 10; i++) {
      limiter.tryAcquire("t");
    }
    now.addAndGet(60_000);
    assertEquals(2, limiter.tryAcquire("t").remaining());
  }

  @Test
  void keepsASeparateLogPerTokenAndReportsRemainingWithoutConsuming() {
    for (int i = 0; i < 3; i++) {
      limiter.tryAcquire("a");
    }
    assertEquals(0, limiter.remaining("a"));
    assertEquals(3, limiter.remaining("b"));
    assertEquals(3, limiter.remaining("b"));
    assertTrue(limiter.tryAcquire("b").allowed());
    limiter.reset();
    assertEquals(3, limiter.remaining("a"));
  }
}
