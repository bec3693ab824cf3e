package dev.biogate.stream;

import java.util.concurrent.atomic.LongAdder;

/** What one engine did on this instance, for metrics and for tests that assert exactly-once handling. */
public final class StreamStats {

  final LongAdder handled = new LongAdder();
  final LongAdder failedAttempts = new LongAdder();
  final LongAdder deadLettered = new LongAdder();
  final LongAdder deadLettersFull = new LongAdder();
  final LongAdder kept = new LongAdder();
  final LongAdder setAside = new LongAdder();
  final LongAdder parked = new LongAdder();
  final LongAdder claimed = new LongAdder();
  final LongAdder lost = new LongAdder();
  final LongAdder yielded = new LongAdder();
  final LongAdder trimmed = new LongAdder();
  final LongAdder retiredConsumers = new LongAdder();

  /** Entries whose handler answered DONE here, counted once acknowledged. */
  public long handled() { return handled.sum(); }
  /** Attempts that failed here (RETRY, each retry counts). */
  public long failedAttempts() { return failedAttempts.sum(); }
  /** Entries this instance moved to the dead letters. */
  public long deadLettered() { return deadLettered.sum(); }
  /**
   * Times an entry due for the dead letters stayed pending instead, because they were at their ceiling (each time it
   * is due again counts again).
   */
  public long deadLettersFull() { return deadLettersFull.sum(); }
  /** Offers answered KEEP (receiver paused). */
  public long kept() { return kept.sum(); }
  /** Entries set aside while they wait on their receiver, their slots given to others ({@link StreamPolicy#maxWaiting}). */
  public long setAside() { return setAside.sum(); }
  /** Offers answered by parking the entry on its receiver ({@link Outcome#park}), each time. */
  public long parked() { return parked.sum(); }
  /** Entries taken over from consumers of dead instances. */
  public long claimed() { return claimed.sum(); }
  /** Pending entries found deleted from the stream before anyone handled them (logged when found). */
  public long lost() { return lost.sum(); }
  /**
   * Attempts not made here because, when the handler confirmed ownership, another consumer had taken the entry over
   * (see {@link StreamHandler.Ownership}).
   */
  public long yielded() { return yielded.sum(); }
  /** Finished entries trimmed from the stream by this instance. */
  public long trimmed() { return trimmed.sum(); }
  /** Consumers of dead instances removed from the group by this instance. */
  public long retiredConsumers() { return retiredConsumers.sum(); }
}
