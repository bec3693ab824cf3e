package dev.biogate.redis;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ThrottledLogTest {

  @Test
  void theFirstOccurrenceIsWrittenTheRestOfTheIntervalCountedIntoTheNextLine() {
    ThrottledLog log = new ThrottledLog(10_000);
    assertEquals(0, log.admit(5_000), "the first one is written, nothing skipped before it");
    assertEquals(-1, log.admit(5_001));
    assertEquals(-1, log.admit(9_000));
    assertEquals(-1, log.admit(14_999));
    assertEquals(3, log.admit(15_000), "one interval later: written, saying 3 were skipped");
    assertEquals(0, log.admit(40_000), "and the count starts over");
    assertEquals(" (3 more failed attempts since the last report)", ThrottledLog.more(3, "failed attempts"));
    assertEquals("", ThrottledLog.more(0, "failed attempts"));
  }
}
