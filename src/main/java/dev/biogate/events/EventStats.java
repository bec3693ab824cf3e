package dev.biogate.events;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of one instance's event processing, for metrics and for tests that assert exactly-once handling. */
public final class EventStats {

  final AtomicLong handled = new AtomicLong();
  final AtomicLong failedAttempts = new AtomicLong();
  final AtomicLong deadLettered = new AtomicLong();
  final AtomicLong claimed = new AtomicLong();

  /** Events whose handler succeeded on this instance. */
  public long handled() { return handled.get(); }
  /** Handling attempts that failed on this instance (each retry counts). */
  public long failedAttempts() { return failedAttempts.get(); }
  /** Events this instance moved to the dead-letter stream. */
  public long deadLettered() { return deadLettered.get(); }
  /** Entries this instance took over from another consumer with XAUTOCLAIM. */
  public long claimed() { return claimed.get(); }
}
