package dev.biogate.redis;

import dev.biogate.support.LogCapture;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A dependency flapping in a failover (the shared profile cache saw Redis come and go up to 15 times a second, and
 * wrote a line each time) writes one outage line and its recovery line per interval, and the last line written
 * always tells the state known then.
 */
class OutageLogTest {

  private static final Logger LOG = LoggerFactory.getLogger(OutageLogTest.class);

  @Test
  void aFlappingDependencyWritesOnePairPerIntervalAndTheLastLineTellsTheState() {
    try (LogCapture lines = LogCapture.of(OutageLogTest.class, e -> e.getLevel() + " " + e.getFormattedMessage())) {
      OutageLog log = new OutageLog(LOG, 10_000);
      log.up("back");                                   // up all along: nothing
      log.down(1_000, "gone ({})", "refused");
      log.down(1_001, "gone ({})", "refused");          // the same outage
      log.up("back");
      for (int i = 0; i < 30; i++) {                    // 15 flips a second for 2 s
        log.down(1_100 + i * 66L, "gone ({})", "refused");
        log.up("back");
      }
      assertEquals(List.of("WARN gone (refused)", "INFO back"), lines.lines());
      log.down(5_000, "gone ({})", "timeout");          // an outage that lasts: unwritten within the interval...
      log.down(9_999, "gone ({})", "timeout");
      assertEquals(2, lines.lines().size());
      log.down(11_000, "gone ({})", "timeout");         // ...written once it is over, with the flips left unwritten
      log.down(12_000, "gone ({})", "timeout");
      assertEquals(List.of("WARN gone (refused)", "INFO back", "WARN gone (timeout) (30 more outages since the last report)"),
        lines.lines());
      log.up("back");
      log.down(13_000, "gone ({})", "refused");         // within the interval: no line, and no recovery line after it
      log.up("back");
      assertEquals(List.of("WARN gone (refused)", "INFO back", "WARN gone (timeout) (30 more outages since the last report)",
        "INFO back"), lines.lines());
    }
  }
}
