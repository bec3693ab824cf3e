package dev.biogate.redis;

import org.slf4j.Logger;

import java.util.Arrays;

/**
 * The pair of lines for a dependency that goes away and comes back ("unavailable", then "reachable again"), written
 * at most once per interval however often it flips: in a failover the state flipped up to 15 times a second, a line
 * each. An outage's line is written when it begins, or, within an interval of the last one, once the interval is over
 * if it still lasts, saying how many outages went unwritten since; its recovery's line only follows an outage line, so
 * the last line written tells the state known then. Thread-safe; one volatile read while the dependency is up.
 */
public final class OutageLog {

  private final Logger log;
  private final long intervalMs;
  private volatile boolean down;
  /** Whether the current outage was written (so its end is). */
  private boolean announced;
  private long writtenMs = Long.MIN_VALUE;
  /** Outages begun since the last outage line, the current one included. */
  private int begun;

  public OutageLog(Logger log) {
    this(log, ThrottledLog.INTERVAL_MS);
  }

  public OutageLog(Logger log, long intervalMs) {
    this.log = log;
    this.intervalMs = intervalMs;
  }

  /** The dependency failed at {@code nowMs}: the outage line, {@code format} and {@code args} at WARN, when due. */
  public void down(long nowMs, String format, Object... args) {
    synchronized (this) {
      if (!down) {
        down = true;
        announced = false;
        begun++;
      } else if (announced) {
        return;
      }
      if (writtenMs != Long.MIN_VALUE && nowMs - writtenMs < intervalMs) {
        return;
      }
      Object[] all = Arrays.copyOf(args, args.length + 1);
      all[args.length] = ThrottledLog.more(begun - 1, "outages");
      log.warn(format + "{}", all);
      writtenMs = nowMs;
      announced = true;
      begun = 0;
    }
  }

  /** The dependency answered: the recovery line {@code message} at INFO, when its outage was written. */
  public void up(String message) {
    if (!down) {
      return;
    }
    synchronized (this) {
      if (down && announced) {
        log.info(message);
      }
      down = false;
      announced = false;
    }
  }
}
