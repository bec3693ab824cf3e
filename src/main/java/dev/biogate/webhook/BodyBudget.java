package dev.biogate.webhook;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

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
final class BodyBudget {

  /** The smallest default budget: 64 deliveries of the default 256 KiB, or thousands of typical ones. */
  static final long MIN_DEFAULT = 16L << 20;

  /** The part of the budget one client may hold: a sixteenth, so that it takes at least 16 addresses to fill it. */
  static final int CLIENT_SHARE = 16;

  private final long capacity;
  private final long perClient;
  private final AtomicLong used = new AtomicLong();
  /** Bytes held per client key; an entry lives only while that client has a reservation. */
  private final ConcurrentHashMap<String, Long> byClient = new ConcurrentHashMap<>();

  BodyBudget(long capacity) {
    this(capacity, capacity);
  }

  /** {@code capacity} bytes in all, a client at most a {@link #CLIENT_SHARE}th of them but at least {@code largestBody}. */
  BodyBudget(long capacity, long largestBody) {
    this.capacity = capacity;
    this.perClient = Math.min(capacity, Math.max(largestBody, capacity / CLIENT_SHARE));
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

  /** Whether {@code bytes} more would fit {@code client}'s share (when it has one) and the budget now; takes nothing. */
  boolean fits(String client, long bytes) {
    if (used.get() + bytes > capacity) {
      return false;
    }
    return client == null || byClient.getOrDefault(client, 0L) + bytes <= perClient;
  }

  /** Takes {@code bytes} of the budget, or nothing and false when they do not fit. */
  boolean reserve(long bytes) {
    if (used.addAndGet(bytes) > capacity) {
      used.addAndGet(-bytes);
      return false;
    }
    return true;
  }

  void release(long bytes) {
    used.addAndGet(-bytes);
  }

  /**
   * Takes {@code bytes} for {@code client} (a client key; {@code null} for one held to no share), or nothing and
   * false when they do not fit its share or the budget. Given back with {@link #release(String, long)}.
   */
  boolean reserve(String client, long bytes) {
    if (client == null) {
      return reserve(bytes);
    }
    if (byClient.merge(client, bytes, Long::sum) > perClient) {
      releaseShare(client, bytes);
      return false;
    }
    if (!reserve(bytes)) {
      releaseShare(client, bytes);
      return false;
    }
    return true;
  }

  void release(String client, long bytes) {
    release(bytes);
    if (client != null) {
      releaseShare(client, bytes);
    }
  }

  private void releaseShare(String client, long bytes) {
    byClient.computeIfPresent(client, (k, held) -> held - bytes <= 0 ? null : held - bytes);
  }

  long perClient() {
    return perClient;
  }

  /** Clients holding a reservation now. */
  int clients() {
    return byClient.size();
  }

  long capacity() {
    return capacity;
  }
}
