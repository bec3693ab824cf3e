package dev.biogate.analytics;

import dev.biogate.http.ApiException;
import io.vertx.core.MultiMap;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/**
 * The time range of an analytics query: {@code from} (inclusive) to {@code to} (exclusive), ISO-8601 instants (with
 * {@code Z} or an offset) or dates (UTC midnight), counted in whole buckets of {@code granularity}: the first bucket
 * is the one holding {@code from}, the last the one holding the instant before {@code to}. Defaults: the 24 hours
 * before now, by hour. Every problem is a {@code 400}: unreadable dates, instants outside 0000-01-01 to 9999-12-31,
 * {@code from >= to}, an unknown granularity, more than {@code maxBuckets} buckets.
 *
 * @param firstBucket start (epoch ms) of the first bucket
 * @param buckets how many buckets the range covers
 */
public record QueryRange(long fromMs, long toMs, Granularity granularity, long firstBucket, int buckets) {

  static final long DEFAULT_SPAN_MS = 86_400_000L;
  /**
   * The instants accepted, 0000-01-01T00:00:00Z to 9999-12-31T00:00:00Z: within the years of an RFC 3339 timestamp,
   * and so is every bucket bound answered (the last day of 9999 would end at 10000-01-01, which RFC 3339 cannot write).
   * Bucket arithmetic over them cannot overflow a long; at the ends of the epoch-ms range it did, and answered 200
   * with {@code from} after {@code to}.
   */
  static final long EARLIEST_MS = Instant.parse("0000-01-01T00:00:00Z").toEpochMilli();
  static final long LATEST_MS = Instant.parse("9999-12-31T00:00:00Z").toEpochMilli();

  public static QueryRange parse(MultiMap params, long nowMs, int maxBuckets) {
    String g = params.get("granularity");
    Granularity granularity = g == null ? Granularity.HOUR : Granularity.parse(g);
    if (granularity == null) {
      throw bad("invalid_granularity", "granularity must be minute, hour or day");
    }
    // from is read first: with both unreadable, the answer names from, the first the client wrote.
    Long fromGiven = params.get("from") == null ? null : instant(params.get("from"), "from");
    long to = params.get("to") == null ? nowMs : instant(params.get("to"), "to");
    long from = fromGiven == null ? Math.max(EARLIEST_MS, to - DEFAULT_SPAN_MS) : fromGiven;
    if (from >= to) {
      throw bad("invalid_range", "from must be before to");
    }
    long last = granularity.floor(to - 1);
    if (fromGiven == null) {
      // The default day, cut to the bucket cap: by minute it spans 1,441 buckets (the first one in part), one too many.
      from = Math.max(from, last - (long) (maxBuckets - 1) * granularity.millis());
    }
    long first = granularity.floor(from);
    long buckets = (last - first) / granularity.millis() + 1;
    if (buckets > maxBuckets) {
      throw bad("range_too_large", "the range spans " + buckets + " " + granularity.name().toLowerCase()
        + " buckets; at most " + maxBuckets + " are allowed (use a coarser granularity)");
    }
    return new QueryRange(from, to, granularity, first, (int) buckets);
  }

  /** Start (epoch ms) of the {@code i}-th bucket. */
  public long bucket(int i) {
    return firstBucket + i * granularity.millis();
  }

  static long instant(String raw, String name) {
    long ms = parsed(raw, name);
    // from is inclusive: at the latest instant it could only start an empty range.
    if (ms < EARLIEST_MS || ms > LATEST_MS || ms == LATEST_MS && "from".equals(name)) {
      throw bad("invalid_" + name, "from".equals(name) ? "from must be at or after 0000-01-01T00:00:00Z and before 9999-12-31T00:00:00Z"
        : "to must be after 0000-01-01T00:00:00Z and at or before 9999-12-31T00:00:00Z");
    }
    return ms;
  }

  private static long parsed(String raw, String name) {
    // A '+' of an offset arrives as a space when the client did not percent-encode it.
    String s = raw.replace(' ', '+');
    try {
      if (s.length() == 10) {
        // A date names its whole day (UTC): from its first instant, to its end (the next midnight).
        LocalDate day = LocalDate.parse(s);
        return ("to".equals(name) ? day.plusDays(1) : day).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
      }
      String upper = s.toUpperCase(java.util.Locale.ROOT);
      if (upper.endsWith("Z")) {
        try {
          return Instant.parse(upper).toEpochMilli();
        } catch (DateTimeParseException withoutSeconds) {
          // ISO-8601 lets the seconds be left out (2025-01-31T12:00Z), which Instant.parse does not read.
        }
      }
      return OffsetDateTime.parse(upper).toInstant().toEpochMilli();
    } catch (DateTimeParseException | ArithmeticException e) {
      throw bad("invalid_" + name, name + " must be an ISO-8601 instant with Z or an offset, e.g. 2025-01-31T12:00:00Z,"
        + " or a date, 2025-01-31");
    }
  }

  private static ApiException bad(String code, String message) {
    return new ApiException(400, code, message);
  }
}
