package dev.biogate.profile;

import java.util.concurrent.atomic.LongAdder;

/**
 * How profile reads were answered, counted with {@link LongAdder}s so the hot path pays a few nanoseconds and no
 * allocation; metrics read the sums when scraped.
 */
public final class CacheStats {

  final LongAdder hit = new LongAdder();
  final LongAdder sharedHit = new LongAdder();
  final LongAdder stale = new LongAdder();
  final LongAdder staleIfError = new LongAdder();
  final LongAdder miss = new LongAdder();
  final LongAdder unavailable = new LongAdder();

  public long hits() { return hit.sum(); }
  public long sharedHits() { return sharedHit.sum(); }
  public long stale() { return stale.sum(); }
  public long staleIfError() { return staleIfError.sum(); }
  public long misses() { return miss.sum(); }
  /** Reads answered 503 because nothing was cached and the upstream could not be used. */
  public long unavailable() { return unavailable.sum(); }
}
