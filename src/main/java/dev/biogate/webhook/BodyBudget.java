package dev.biogate.webhook;

import dev.biogate.http.KeyedCeiling;

/**
 * The memory this instance gives to webhook bodies being received, shared by every event loop.
 * <p>
 * Bodies are held until they have arrived whole or the body deadline passed: 2,000 senders declaring the largest body
 * and stalling once ran a 160 MB heap out of memory, when a buffer of the declared size was allocated on the head. A
 * delivery whose declared length does not fit what is held now is answered 503 with {@code Retry-After} on its head
 * (providers retry; nothing was taken in); its body then takes its bytes here as they arrive (503 when a chunk does not
 * fit), and gives them back when the exchange ends, however it ends. Declaring costs nothing: heads that declared the
 * largest body and never sent it, 5 from each of 16 addresses, used to hold the whole budget.
 * <p>
 * One client may hold at most a share of it: {@link #CLIENT_SHARE} of the budget, and never less than one largest
 * body. Without that, one address declaring full-size bodies and never sending them (128 connections, reconnecting
 * after each body deadline, no secret needed) kept every provider's deliveries answered 503 for as long as it went on.
 */
final class BodyBudget extends KeyedCeiling {

  /** The smallest default budget: 64 deliveries of the default 256 KiB, or thousands of typical ones. */
  static final long MIN_DEFAULT = 16L << 20;

  /** The part of the budget one client may hold: a sixteenth, so that it takes at least 16 addresses to fill it. */
  static final int CLIENT_SHARE = 16;

  BodyBudget(long capacity) {
    this(capacity, capacity);
  }

  /** {@code capacity} bytes in all, a client at most a {@link #CLIENT_SHARE}th of them but at least {@code largestBody}. */
  BodyBudget(long capacity, long largestBody) {
    super(capacity, Math.min(capacity, Math.max(largestBody, capacity / CLIENT_SHARE)));
  }

  /** {@code configured} bytes, or when it is 0 an eighth of {@code maxHeap}, at least {@link #MIN_DEFAULT}. */
  static BodyBudget of(long configured, long maxHeap) {
    return of(configured, maxHeap, 0);
  }

  /** As {@link #of(long, long)}, a client holding at most its share and never less than {@code largestBody}. */
  static BodyBudget of(long configured, long maxHeap, long largestBody) {
    return new BodyBudget(configured > 0 ? configured : Math.max(MIN_DEFAULT, maxHeap == Long.MAX_VALUE ? 1L << 30 : maxHeap / 8),
      largestBody);
  }

  /** The bytes one client may hold. */
  long perClient() {
    return perKey();
  }

  /** Clients holding a reservation now. */
  int clients() {
    return keys();
  }
}
