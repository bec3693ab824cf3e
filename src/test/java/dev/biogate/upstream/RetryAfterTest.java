package dev.biogate.upstream;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * How long an upstream {@code 429} stops every upstream call, shared by every instance through Redis. An attack pass
 * had the upstream (or a proxy in front of it) answer {@code Retry-After: 999999999}: every miss of every instance was
 * answered 503 for an hour, while the upstream's limit is per minute. A wait is now at most two of its windows; an
 * upstream still limiting after that answers 429 again and sets the next one.
 */
class RetryAfterTest {

  @Test
  void aWaitIsAtMostTwoMinutes() {
    assertEquals(120_000, LinktreeClient.retryAfterMs("999999999"));
    assertEquals(120_000, LinktreeClient.retryAfterMs("3600"));
    assertEquals(120_000, LinktreeClient.retryAfterMs("121"));
  }

  @Test
  void aWaitTheUpstreamNamesWithinThatIsKept() {
    assertEquals(0, LinktreeClient.retryAfterMs("0"));
    assertEquals(17_000, LinktreeClient.retryAfterMs("17"));
    assertEquals(120_000, LinktreeClient.retryAfterMs("120"));
  }

  @Test
  void noWaitOrOneThatCannotBeReadIsTheUpstreamWindow() {
    assertEquals(60_000, LinktreeClient.retryAfterMs(null));
    assertEquals(60_000, LinktreeClient.retryAfterMs("soon"));
    assertEquals(60_000, LinktreeClient.retryAfterMs("-5"));
  }
}
