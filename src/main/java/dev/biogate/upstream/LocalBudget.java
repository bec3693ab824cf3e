package dev.biogate.upstream;

import io.vertx.core.Future;

/**
 * An in-process sliding-window log: at most {@code limit} permits in any window of {@code periodMs}, so the cap
 * holds in every rolling window, not just aligned ones (a GCRA with a full burst would allow close to twice the
 * limit across a window boundary). Lanes have ceilings (see {@link LaneShares}): a lower lane stops taking permits
 * while the higher lanes' reserve is still available to them. Used alone by a single instance and as the fallback
 * share when the shared Redis budget is unreachable. Its window should include the longest a request may take (see
 * {@link RedisBudget}), because a permit is counted from its grant, while the upstream counts the arrival.
 */
public final class LocalBudget implements UpstreamBudget {

  private final int limit;
  private final long periodNanos;
  private final LaneShares shares;
  private final long[] log;
  private int head;
  private int size;
  private volatile long blockedUntilMs;

  public LocalBudget(int limit, long periodMs, LaneShares shares) {
    this.limit = limit;
    this.periodNanos = periodMs * 1_000_000L;
    this.shares = shares;
    this.log = new long[limit];
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
    while (size > 0 && now - log[head] >= periodNanos) {
      head = (head + 1) % limit;
      size--;
    }
    int ceiling = shares.ceiling(lane, limit);
    if (size < ceiling) {
      log[(head + size) % limit] = now;
      size++;
      return 0;
    }
    // The lane may take a permit once the log shrinks below its ceiling: when entry (size - ceiling) expires.
    long expiring = log[(head + size - ceiling) % limit];
    return Math.max(1, expiring + periodNanos - now);
  }

  /** Counts {@code n} permits as taken now (capped at the limit): the share others already used. */
  public synchronized void preload(int n) {
    long now = System.nanoTime();
    for (int i = 0; i < n && size < limit; i++) {
      log[(head + size) % limit] = now;
      size++;
    }
  }

  /** Permits taken in the current window. */
  public synchronized int used() {
    long now = System.nanoTime();
    int n = 0;
    for (int i = 0; i < size; i++) {
      if (now - log[(head + i) % limit] < periodNanos) {
        n++;
      }
    }
    return n;
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
}
