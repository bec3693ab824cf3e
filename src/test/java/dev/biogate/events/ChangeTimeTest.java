package dev.biogate.events;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * When a profile or link change was made, from its body's {@code timestamp}, orders the changes. An attack pass sent a
 * signed event timestamped {@code +999999999-12-31T23:59:59Z}: a valid date whose milliseconds overflow a long, which
 * threw out of the parser's catch and dead-lettered the event after every attempt, replays included; and one
 * timestamped {@code 9999-12-31} was applied and then outranked every real change to that profile for the 96 hours
 * the order is kept. A time that overflows, or one later than the delivery's arrival plus the signature's future
 * tolerance (5 minutes), now reads as no time: applied as it comes, ranking nothing.
 */
class ChangeTimeTest {

  private static final long RECEIVED = 1_796_000_000_000L;

  private static JsonObject at(Object timestamp) {
    return new JsonObject().put("type", "profile.updated").put("timestamp", timestamp);
  }

  @Test
  void aTimeThatOverflowsOrLiesInTheFutureReadsAsNoTime() {
    assertEquals(-1, EventRouter.madeAt(at("+999999999-12-31T23:59:59Z"), RECEIVED));
    assertEquals(-1, EventRouter.madeAt(at("-999999999-01-01T00:00:00Z"), RECEIVED));
    assertEquals(-1, EventRouter.madeAt(at("9999-12-31T23:59:59Z"), RECEIVED), "far in the future");
    assertEquals(-1, EventRouter.madeAt(at(RECEIVED + 300_001), RECEIVED), "in milliseconds, past the tolerance");
    assertEquals(RECEIVED + 300_000, EventRouter.madeAt(at(RECEIVED + 300_000), RECEIVED), "within it");
    assertEquals(RECEIVED - 60_000, EventRouter.madeAt(at(java.time.Instant.ofEpochMilli(RECEIVED - 60_000).toString()), RECEIVED));
    assertEquals((RECEIVED / 1000 - 5) * 1000, EventRouter.madeAt(at(RECEIVED / 1000 - 5), RECEIVED), "Unix seconds");
    assertEquals(-1, EventRouter.madeAt(at("yesterday"), RECEIVED));
  }
}
