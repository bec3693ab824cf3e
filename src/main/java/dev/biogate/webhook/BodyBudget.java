package dev.biogate.webhook;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory this instance gives to webhook bodies being received, shared by every event loop.
 * <p>
 * A delivery's body buffer is allocated from its {@code Content-Length} as soon as its head is read (one array of the
 * right size instead of one grown by copies), and held until the body has arrived or the body deadline passed. A
 * sender that declares the largest body and then stalls therefore costs {@code maxBodyBytes} of heap for nothing:
 * 2,000 of them ran a 160 MB heap out of memory. Each delivery reserves its declared length here before its body is
 * read; one that does not fit is answered 503 with {@code Retry-After} (providers retry; nothing was taken in), and
 * the reservation is given back when the exchange ends, however it ends.
 */
final class BodyBudget {

  /** The smallest default budget: 64 deliveries of the default 256 KiB, or thousands of typical ones. */
  static final long MIN_DEFAULT = 16L << 20;

  private final long capacity;
  private final AtomicLong used = new AtomicLong();

  BodyBudget(long capacity) {
    this.capacity = capacity;
  }

  /** {@code configured} bytes, or when it is 0 an eighth of {@code maxHeap}, at least {@link #MIN_DEFAULT}. */
  static BodyBudget of(long configured, long maxHeap) {
    return new BodyBudget(configured > 0 ? configured : Math.max(MIN_DEFAULT, maxHeap == Long.MAX_VALUE ? 1L << 30 : maxHeap / 8));
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

  long capacity() {
    return capacity;
  }
}
