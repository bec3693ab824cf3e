package dev.biogate.upstream;

import dev.biogate.config.LinktreeOptions;

/**
 * How much of the window's budget each lane may use. Foreground may use all of it; webhook refreshes stop when only
 * the foreground reserve is left; background revalidation stops earlier still, leaving the refresh lane its own
 * margin. So a busy lower lane can never take the permits a higher lane needs.
 */
public final class LaneShares {


  private final double foregroundReserve;
  private final double refreshReserve;

  public LaneShares(double foregroundReserve, double refreshReserve) {
    if (foregroundReserve < 0 || refreshReserve < 0 || foregroundReserve + refreshReserve >= 1) {
      throw new IllegalArgumentException("reserves must be >= 0 and leave some budget for background work");
    }
    this.foregroundReserve = foregroundReserve;
    this.refreshReserve = refreshReserve;
  }

  public static LaneShares defaults() {
    return new LaneShares(LinktreeOptions.DEFAULT_FOREGROUND_RESERVE, LinktreeOptions.DEFAULT_REFRESH_RESERVE);
  }

  /** The most permits the lane may see used in one window (counting everyone's), at least 1 for foreground. */
  public int ceiling(Lane lane, int limit) {
    switch (lane) {
      case FOREGROUND:
        return limit;
      case REFRESH:
        return (int) Math.floor(limit * (1 - foregroundReserve));
      default:
        return (int) Math.floor(limit * (1 - foregroundReserve - refreshReserve));
    }
  }
}
