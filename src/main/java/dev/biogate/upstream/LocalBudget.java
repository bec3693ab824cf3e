package dev.biogate.upstream;

import io.vertx.core.Future;

/**
 * An in-process sliding-window log: at most {@code limit} permits in any window of {@code periodMs}, so the cap
 * holds in every rolling window, not just aligned ones (a GCRA with a full burst would allow close to twice the
 * limit across a window boundary). Lanes have ceilings and caps (see {@link LaneShares}): a lower lane stops taking
 * permits while the higher lanes' reserve is still available to them, and never-seen names stop at their share.
 * Used alone by a single instance and as the fallback share when the shared Redis budget is unreachable (a limit
 * of 0 grants nothing). Its window should include the longest a request may take (see {@link RedisBudget}),
 * because a permit is counted from its grant, while the upstream counts the arrival.
 */
public final class LocalBudget implements UpstreamBudget {

  private final int limit;
  private final long periodNanos;
  private final LaneShares shares;
  private final Log all;
  private final Log firstSight;
  private volatile long blockedUntilMs;

  public LocalBudget(int limit, long periodMs, LaneShares shares) {
    this.limit = Math.max(0, limit);
    this.periodNanos = periodMs * 1_000_000L;
    this.shares = shares;
    this.all = new Log(this.limit);
    this.firstSight = new Log(this.limit);
  }

  @Override
  public Future<Permit> acquire(Lane lane) {
    long blocked = blockedForMs();
    if (blocked > 0) {
      return Future.failedFuture(new UpstreamException(UpstreamException.Kind.RATE_LIMITED, "upstream asked us to back off", blocked, 429));
    }
    long waitNanos = tryTake(lane, System.nanoTime());
    if (waitNanos == 0) {
      return Future.succeededFuture(Permit.NONE);
    }
    return Future.failedFuture(new UpstreamException(UpstreamException.Kind.BUDGET_EXHAUSTED, "upstream budget exhausted",
      Math.max(1, (waitNanos + 999_999) / 1_000_000L), 0));
  }

  /** 0 when a permit was taken, else nanoseconds until this lane could get one. */
  synchronized long tryTake(Lane lane, long now) {
    all.trim(now, periodNanos);
    int ceiling = Math.min(limit, shares.ceiling(lane, limit));
    if (all.size >= ceiling) {
      return ceiling <= 0 ? periodNanos : Math.max(1, all.expiryOf(all.size - ceiling) + periodNanos - now);
    }
    int cap = shares.cap(lane, limit);
    if (cap >= 0) {
      firstSight.trim(now, periodNanos);
      if (firstSight.size >= cap) {
        return cap <= 0 ? periodNanos : Math.max(1, firstSight.expiryOf(firstSight.size - cap) + periodNanos - now);
      }
      firstSight.add(now);
    }
    all.add(now);
    return 0;
  }

  /** Permits taken in the current window. */
  public synchronized int used() {
    all.trim(System.nanoTime(), periodNanos);
    return all.size;
  }

  public int limit() {
    return limit;
  }

  @Override
  public void backOff(long retryAfterMs) {
    long until = System.currentTimeMillis() + retryAfterMs;
    if (until > blockedUntilMs) {
      blockedUntilMs = until;
    }
  }

  @Override
  public long blockedForMs() {
    return Math.max(0, blockedUntilMs - System.currentTimeMillis());
  }

  /** A ring of permit times (nanoTime), oldest first; at most {@code capacity} entries. */
  private static final class Log {
    private final long[] at;
    private int head;
    private int size;

    Log(int capacity) {
      this.at = new long[Math.max(1, capacity)];
    }

    void trim(long now, long period) {
      while (size > 0 && now - at[head] >= period) {
        head = (head + 1) % at.length;
        size--;
      }
    }

    /** The time of the i-th oldest entry. */
    long expiryOf(int i) {
      return at[(head + i) % at.length];
    }

    void add(long now) {
      at[(head + size) % at.length] = now;
      size++;
    }
  }
}
