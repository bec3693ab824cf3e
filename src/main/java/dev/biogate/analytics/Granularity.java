package dev.biogate.analytics;

import dev.biogate.config.AnalyticsOptions;

import java.util.Locale;

/** The bucket sizes clicks are counted in. Buckets are aligned to the epoch, in UTC. */
public enum Granularity {
  MINUTE('m', 60_000L),
  HOUR('h', 3_600_000L),
  DAY('d', 86_400_000L);

  private final char unit;
  private final long millis;

  Granularity(char unit, long millis) {
    this.unit = unit;
    this.millis = millis;
  }

  /** The letter in counter keys ({@code bg:an:{user}:<unit>:<index>}). */
  public char unit() {
    return unit;
  }

  public long millis() {
    return millis;
  }

  /** Start (epoch ms) of the bucket holding {@code ts}. */
  public long floor(long ts) {
    return Math.floorDiv(ts, millis) * millis;
  }

  /** Number of the bucket holding {@code ts} since the epoch. */
  public long index(long ts) {
    return Math.floorDiv(ts, millis);
  }

  /** How long this size's buckets are kept after they start. */
  public long retentionMs(AnalyticsOptions options) {
    switch (this) {
      case MINUTE: return options.minuteRetentionS() * 1000;
      case HOUR: return options.hourRetentionS() * 1000;
      default: return options.dayRetentionS() * 1000;
    }
  }

  /** {@code minute|hour|day} (any case), or {@code null}. */
  public static Granularity parse(String s) {
    if (s == null) {
      return null;
    }
    switch (s.trim().toLowerCase(Locale.ROOT)) {
      case "minute": return MINUTE;
      case "hour": return HOUR;
      case "day": return DAY;
      default: return null;
    }
  }
}
