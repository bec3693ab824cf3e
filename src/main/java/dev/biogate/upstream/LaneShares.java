package dev.biogate.upstream;

import dev.biogate.config.LinktreeOptions;

/**
 * How much of the window's budget each lane may use. Known-name foreground misses may use all of it; webhook
 * refreshes stop when only the foreground reserve is left; background revalidation stops earlier still, leaving the
 * refresh lane its own margin. So a busy lower lane can never take the permits a higher lane needs. Never-seen names
 * ({@link Lane#FIRST_SIGHT}) stop where refreshes stop, and in addition may use at most their own share of the
 * window: the foreground reserve always stays with names the gateway has reason to know.
 */
public final class LaneShares {

  private final double foregroundReserve;
  private final double refreshReserve;
  private final double firstSightShare;

  public LaneShares(double foregroundReserve, double refreshReserve) {
    this(foregroundReserve, refreshReserve, 1.0);
  }

  public LaneShares(double foregroundReserve, double refreshReserve, double firstSightShare) {
    if (foregroundReserve < 0 || refreshReserve < 0 || foregroundReserve + refreshReserve >= 1) {
      throw new IllegalArgumentException("reserves must be >= 0 and leave some budget for background work");
    }
    if (firstSightShare < 0 || firstSightShare > 1) {
      throw new IllegalArgumentException("the first-sight share must be within [0, 1]");
    }
    this.foregroundReserve = foregroundReserve;
    this.refreshReserve = refreshReserve;
    this.firstSightShare = firstSightShare;
  }

  public static LaneShares defaults() {
    return new LaneShares(LinktreeOptions.DEFAULT_FOREGROUND_RESERVE, LinktreeOptions.DEFAULT_REFRESH_RESERVE,
      LinktreeOptions.DEFAULT_FIRST_SIGHT_SHARE);
  }

  /** The most permits the lane may see used in one window (counting everyone's). */
  public int ceiling(Lane lane, int limit) {
    switch (lane) {
      case FOREGROUND:
        return limit;
      case REFRESH:
      case FIRST_SIGHT:
        return (int) Math.floor(limit * (1 - foregroundReserve));
      default:
        return (int) Math.floor(limit * (1 - foregroundReserve - refreshReserve));
    }
  }

  /** The most permits the lane itself may take in one window, or -1 when only its ceiling applies. */
  public int cap(Lane lane, int limit) {
    if (lane != Lane.FIRST_SIGHT || firstSightShare >= 1) {
      return -1;
    }
    return (int) Math.floor(limit * firstSightShare);
  }
}
