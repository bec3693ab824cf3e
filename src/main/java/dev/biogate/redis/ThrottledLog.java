package dev.biogate.redis;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One recurring trouble's log line, written at most once per interval. While Redis fails over, the same failure
 * repeats many times a second (every connection attempt, every delivery); a line each buried the one line that
 * said what happened. The first occurrence is written at once; the others within the interval are counted, and the
 * next written line says how many there were. Thread-safe.
 */
public final class ThrottledLog {

  private final long intervalMs;
  private final AtomicLong lastMs = new AtomicLong(Long.MIN_VALUE);
  private final AtomicInteger skipped = new AtomicInteger();

  public ThrottledLog(long intervalMs) {
    this.intervalMs = intervalMs;
  }

  /**
   * Whether the occurrence at {@code nowMs} is to be written: the number of occurrences left unwritten since the
   * last written one (0 or more), or -1 when this one is only counted.
   */
  public int admit(long nowMs) {
    long last = lastMs.get();
    if ((last == Long.MIN_VALUE || nowMs - last >= intervalMs) && lastMs.compareAndSet(last, nowMs)) {
      return skipped.getAndSet(0);
    }
    skipped.incrementAndGet();
    return -1;
  }

  /** {@code " (N more ... since the last report)"} for {@code n} > 0, else empty: the tail of a written line. */
  public static String more(int n, String what) {
    return n <= 0 ? "" : " (" + n + " more " + what + " since the last report)";
  }
}
