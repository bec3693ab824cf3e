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

  /**
   * A click written to the journal while Redis was unreachable keeps its time when read back. Found in a Sentinel drill:
   * the journal's reader passed 0 as the arrival, so every time was "more than five minutes past" it and replaced by
   * 0, and the replayed clicks were counted in the minute of the replay (1,070 and 1,310 for 1,200 and 1,200).
   */
  @Test
  void aJournaledClickKeepsItsTime() {
    long earlier = Instant.parse("2026-12-03T07:00:00Z").toEpochMilli();
    ClickEvent click = ClickEvent.redirect("demo", "lnk_demo_01", earlier);
    assertEquals(earlier, ClickEvent.fromJson(click.toJson()).ts());
    assertEquals(earlier, ClickEvent.fromJson(new io.vertx.core.json.JsonObject(click.toJson().encode())).ts(), "as a journal line");
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
