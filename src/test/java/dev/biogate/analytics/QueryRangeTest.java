package dev.biogate.analytics;

import dev.biogate.http.ApiException;
import io.vertx.core.MultiMap;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A date names a whole day. Found by a newcomer: {@code from=2026-12-01&to=2026-12-06} by day left out the 6th (read
 * as its first instant), with that day's clicks; and {@code from} and {@code to} on the same date was refused.
 */
class QueryRangeTest {

  private static QueryRange parse(String from, String to, String granularity) {
    MultiMap params = MultiMap.caseInsensitiveMultiMap().add("from", from).add("to", to).add("granularity", granularity);
    return QueryRange.parse(params, Instant.parse("2026-12-06T12:00:00Z").toEpochMilli(), 1440);
  }

  /**
   * Found by an attack pass: {@code granularity=minute} without {@code from} was always refused, the default day
   * spanning 1,441 minute buckets (its first minute cut in two) for a cap of 1,440. The default range keeps to the cap.
   */
  @Test
  void minutesWithoutARangeAreTheLastDayOfThem() {
    long now = Instant.parse("2026-12-06T12:00:30Z").toEpochMilli();
    QueryRange r = QueryRange.parse(MultiMap.caseInsensitiveMultiMap().add("granularity", "minute"), now, 1440);
    assertEquals(1440, r.buckets());
    assertEquals(Instant.parse("2026-12-06T12:00:00Z").toEpochMilli(), r.bucket(1439), "the current minute is the last");
    QueryRange hours = QueryRange.parse(MultiMap.caseInsensitiveMultiMap(), now, 1440);
    assertEquals(25, hours.buckets(), "hours keep the day they always had, both partial ends included");
  }

  @Test
  void aDateAsToTakesItsWholeDay() {
    QueryRange week = parse("2026-12-01", "2026-12-06", "day");
    assertEquals(Instant.parse("2026-12-01T00:00:00Z").toEpochMilli(), week.fromMs());
    assertEquals(Instant.parse("2026-12-07T00:00:00Z").toEpochMilli(), week.toMs(), "the 6th included");
    assertEquals(6, week.buckets());
    QueryRange day = parse("2026-12-06", "2026-12-06", "hour");
    assertEquals(24, day.buckets(), "one date for both ends is that day");
  }

  @Test
  void anInstantAsToIsThatInstant() {
    QueryRange r = parse("2026-12-01T00:00:00Z", "2026-12-06T00:00:00Z", "day");
    assertEquals(5, r.buckets());
  }

  /**
   * Found by an attack pass: a control character or a space around a value ({@code from=2026-12-06%00}, {@code %0A},
   * {@code %20}) was trimmed off and the value accepted. A value is read as sent; an unencoded {@code +} of an offset
   * (a space inside the value) is still read as the offset.
   */
  @Test
  void aValueIsReadAsSentNotTrimmed() {
    for (String from : new String[] {"2026-12-06\u0000", "2026-12-06\n", "2026-12-06 ", " 2026-12-06", "\t2026-12-06T00:00:00Z"}) {
      ApiException e = assertThrows(ApiException.class, () -> parse(from, "2026-12-06", "day"), from);
      assertEquals("invalid_from", e.code());
    }
    assertEquals(Instant.parse("2026-12-06T11:00:00Z").toEpochMilli(), parse("2026-12-06T12:00:00 01:00", "2026-12-06", "hour").fromMs());
  }

  /**
   * ISO-8601 lets an instant leave out its seconds. Found by a contract audit: {@code from=2026-12-07T14:00Z} was
   * refused {@code 400 invalid_from} while {@code 2026-12-07T14:00:00Z} and {@code 2026-12-07T15:00+01:00} were read.
   */
  @Test
  void anInstantWithoutSecondsIsRead() {
    QueryRange r = parse("2026-12-06T10:00Z", "2026-12-06T11:30+01:00", "minute");
    assertEquals(Instant.parse("2026-12-06T10:00:00Z").toEpochMilli(), r.fromMs());
    assertEquals(Instant.parse("2026-12-06T10:30:00Z").toEpochMilli(), r.toMs());
    assertEquals(Instant.parse("2026-12-06T10:00:00Z").toEpochMilli(), parse("2026-12-06t10:00z", "2026-12-06", "hour").fromMs());
    ApiException local = assertThrows(ApiException.class, () -> parse("2026-12-06T10:00:00", "2026-12-06", "day"));
    assertTrue(local.getMessage().contains("offset"), "a time without an offset names no instant: " + local.getMessage());
  }

  @Test
  void theMessageOfAnUnreadableValueNamesBothForms() {
    ApiException e = assertThrows(ApiException.class, () -> parse("garbage", "2026-12-06", "day"));
    assertEquals("invalid_from", e.code());
    assertTrue(e.getMessage().contains("2025-01-31T12:00:00Z") && e.getMessage().contains("or a date"), e.getMessage());
  }
}
