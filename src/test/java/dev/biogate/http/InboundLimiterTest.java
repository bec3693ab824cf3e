package dev.biogate.http;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The edge limiter's bucket table on its own, on a clock the test moves: a token bucket per slot (burst, then one
 * request per interval), slots independent of each other, a slot picked by a keyed hash, and one-time clients that
 * never limit each other however many there are.
 */
class InboundLimiterTest {

  private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);

  private InboundLimiter limiter(double ratePerSec, int burst) {
    return new InboundLimiter(ratePerSec, burst, List.of(), false, clock::get);
  }

  @Test
  void aFullBucketGivesItsBurstThenOneRequestPerInterval() {
    InboundLimiter l = limiter(2, 3);
    long now = l.now();
    long[] left = new long[3];
    for (int i = 0; i < 3; i++) {
      long taken = l.acquire(7, now);
      assertTrue(taken > 0, "request " + (i + 1) + " of the burst");
      left[i] = l.left(taken, now);
    }
    assertEquals(List.of(2L, 1L, 0L), List.of(left[0], left[1], left[2]), "what is left after each request");
    long refused = l.acquire(7, now);
    assertEquals(-500_000_000L, refused, "the next token comes one interval (1/2 s) later");
    assertEquals(0, l.left(refused, now));

    clock.addAndGet(499_999_999L);
    assertTrue(l.acquire(7, l.now()) < 0, "not a whole token yet");
    clock.addAndGet(1L);
    assertTrue(l.acquire(7, l.now()) > 0, "one token after one interval");
    assertTrue(l.acquire(7, l.now()) < 0, "and only one");

    clock.addAndGet(60_000_000_000L);
    now = l.now();
    for (int i = 0; i < 3; i++) {
      assertTrue(l.acquire(7, now) > 0, "a bucket left alone refills to its burst, not beyond");
    }
    assertTrue(l.acquire(7, now) < 0);
  }

  @Test
  void anEmptySlotDoesNotLimitAnotherSlot() {
    InboundLimiter l = limiter(0.01, 2);
    long now = l.now();
    assertTrue(l.acquire(1, now) > 0);
    assertTrue(l.acquire(1, now) > 0);
    assertTrue(l.acquire(1, now) < 0, "slot 1 is empty");
    assertTrue(l.acquire(2, now) > 0, "slot 2 still has its burst");
    assertEquals(-100_000_000_000L, l.acquire(1, now), "0.01 requests/s: the next one in 100 s");
  }

  @Test
  void aMillionOneTimeClientsAreAllAdmitted() {
    // A viral page: every reader new. The table has a fixed size, so readers share slots; with the default burst
    // (400) sharing never refuses anyone who sends one request.
    InboundLimiter l = limiter(200, 400);
    long now = l.now();
    byte[] ip = new byte[8]; // an IPv6 reader is counted by its /64
    ip[0] = 0x20;
    ip[1] = 0x01;
    int refused = 0;
    for (int i = 0; i < 1_000_000; i++) {
      ip[4] = (byte) (i >>> 24);
      ip[5] = (byte) (i >>> 16);
      ip[6] = (byte) (i >>> 8);
      ip[7] = (byte) i;
      if (l.acquire(l.slotOf(ip), now) < 0) {
        refused++;
      }
    }
    assertEquals(0, refused);
  }

  @Test
  void slotsAreSpreadAndKeyedPerProcess() {
    // The slot depends on a random per-limiter key: another process puts the same addresses elsewhere, so nobody can
    // pick an address that lands in a given client's slot. And addresses spread over the whole table.
    InboundLimiter a = limiter(200, 400);
    InboundLimiter b = limiter(200, 400);
    int same = 0;
    int[] perSlot = new int[InboundLimiter.SLOTS];
    int max = 0;
    for (int i = 0; i < 100_000; i++) {
      byte[] ip = {(byte) 198, (byte) (i >>> 16), (byte) (i >>> 8), (byte) i};
      int s = a.slotOf(ip);
      assertTrue(s >= 0 && s < InboundLimiter.SLOTS, "slot " + s);
      if (s == b.slotOf(ip)) {
        same++;
      }
      max = Math.max(max, ++perSlot[s]);
    }
    assertTrue(same < 10, same + " of 100,000 addresses in the same slot under two keys");
    assertTrue(max <= 12, "at most " + max + " of 100,000 addresses in one of " + InboundLimiter.SLOTS + " slots");
  }
}
