package dev.biogate.redis;

import org.slf4j.Logger;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * One recurring trouble's log line, written at most once per interval. While Redis fails over, the same failure
 * repeats many times a second (every connection attempt, every delivery); a line each buried the one line that
 * said what happened. The first occurrence is written at once; the others within the interval are counted, and the
 * next written line says how many there were. Thread-safe.
 */
public final class ThrottledLog {

  /** The default interval: one line per trouble per 10 s. */
  public static final long INTERVAL_MS = 10_000;

  private final long intervalMs;
  private final AtomicLong lastMs = new AtomicLong(Long.MIN_VALUE);
  private final AtomicInteger skipped = new AtomicInteger();

  public ThrottledLog() {
    this(INTERVAL_MS);
  }

  public ThrottledLog(long intervalMs) {
    this.intervalMs = intervalMs;
  }

  /**
   * Writes {@code format} with {@code args} to {@code log} at WARN, followed by how many {@code repeats} were left
   * unwritten since the last line, or only counts it when a line was written less than an interval ago. Whether it
   * was written.
   */
  public boolean warn(Logger log, long nowMs, String repeats, String format, Object... args) {
    return write(log::warn, nowMs, repeats, format, args);
  }

  /** {@link #warn}, at INFO: for what is recovery rather than trouble, but repeats as often. */
  public boolean info(Logger log, long nowMs, String repeats, String format, Object... args) {
    return write(log::info, nowMs, repeats, format, args);
  }

  private boolean write(BiConsumer<String, Object[]> level, long nowMs, String repeats, String format, Object... args) {
    int skipped = admit(nowMs);
    if (skipped < 0) {
      return false;
    }
    Object[] all = Arrays.copyOf(args, args.length + 1);
    all[args.length] = more(skipped, repeats);
    level.accept(format + "{}", all);
    return true;
  }

  /**
   * Whether the occurrence at {@code nowMs} is to be written: the number of occurrences left unwritten since the
   * last written one (0 or more), or -1 when this one is only counted.
   */
  int admit(long nowMs) {
    long last = lastMs.get();
    if ((last == Long.MIN_VALUE || nowMs - last >= intervalMs) && lastMs.compareAndSet(last, nowMs)) {
      return skipped.getAndSet(0);
    }
    skipped.incrementAndGet();
    return -1;
  }

  /** {@code " (N more ... since the last report)"} for {@code n} > 0, else empty: the tail of a written line. */
  static String more(int n, String what) {
    return n <= 0 ? "" : " (" + n + " more " + what + " since the last report)";
  }
}
