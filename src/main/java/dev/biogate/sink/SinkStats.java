package dev.biogate.sink;

import java.util.concurrent.atomic.LongAdder;

/** What the Klaviyo sink has done since this instance started, for metrics and tests. Thread-safe. */
public final class SinkStats {

  final LongAdder delivered = new LongAdder();
  final LongAdder duplicates = new LongAdder();
  final LongAdder rateLimited = new LongAdder();
  final LongAdder faults = new LongAdder();
  final LongAdder unattributed = new LongAdder();
  final LongAdder dropped = new LongAdder();

  /** Events Klaviyo accepted. */
  public long delivered() { return delivered.sum(); }
  /** Stream entries not sent because their event had already been delivered. */
  public long duplicates() { return duplicates.sum(); }
  /** 429 answers (each waited out). */
  public long rateLimited() { return rateLimited.sum(); }
  /** 5xx answers, timeouts and connection failures. */
  public long faults() { return faults.sum(); }
  /** Clicks without a creator: Klaviyo needs a profile, so they are not sent. */
  public long unattributed() { return unattributed.sum(); }
  /** Unreadable stream entries skipped. */
  public long dropped() { return dropped.sum(); }
}
