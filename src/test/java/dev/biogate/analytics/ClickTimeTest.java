package dev.biogate.analytics;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * When a click happened, as a LinkMe event's {@code ts} says. Found in a fault drill: a {@code ts} of
 * {@code +999999999-12-31T23:59:59Z} (a valid ISO-8601 instant that no millisecond count can hold) threw
 * {@code ArithmeticException} on every attempt, so a delivery answered 200 was dead-lettered and its click never
 * counted (a replay failed the same way); {@code 1e400} and {@code -1e300} were counted at the ends of time, where
 * no query finds them. A time that cannot be read, or that lies before 2000 or more than five minutes past the
 * delivery's arrival, is not believed: the click counts when the delivery arrived.
 */
class ClickTimeTest {

  private static final long RECEIVED = Instant.parse("2026-12-06T08:00:00Z").toEpochMilli();

  @Test
  void aTimeOutsideAnyCountableRangeIsTheArrivalTime() {
    for (String ts : new String[] {"+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z", "1e400", "-1e300",
        "NaN", "Infinity", "-5", "0", "1999-12-31T23:59:59Z", "2026-12-06T08:05:01Z", "2026-12-06T10:00:00+01:00",
        "not a time", ""}) {
      assertEquals(RECEIVED, ClickEvent.parseTs(ts, RECEIVED), ts);
    }
  }

  @Test
  void aBelievableTimeIsKeptInEachForm() {
    long earlier = Instant.parse("2026-12-03T07:00:00Z").toEpochMilli();
    assertEquals(earlier, ClickEvent.parseTs("2026-12-03T07:00:00Z", RECEIVED));
    assertEquals(earlier, ClickEvent.parseTs("2026-12-03T08:00:00+01:00", RECEIVED));
    assertEquals(earlier, ClickEvent.parseTs(Long.toString(earlier / 1000), RECEIVED), "epoch seconds");
    assertEquals(earlier, ClickEvent.parseTs(Long.toString(earlier), RECEIVED), "epoch milliseconds");
    assertEquals(RECEIVED + 60_000, ClickEvent.parseTs("2026-12-06T08:01:00Z", RECEIVED), "a minute of clock skew");
  }
}
