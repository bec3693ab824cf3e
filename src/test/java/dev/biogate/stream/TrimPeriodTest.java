package dev.biogate.stream;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * How often an engine trims its stream. Measured on an idle instance: the sole-reader streams (16 events shards and the
 * outbound stream) were trimmed every second, 17 round trips a second that could find nothing to remove, as the
 * script finishing an entry deletes it. They are now trimmed once a minute, as a safety net; streams several groups
 * read (the clicks shards) keep the configured period, since only a trim removes what they have all finished.
 */
class TrimPeriodTest {

  @Test
  void aSoleReaderTrimsOnceAMinuteAndASharedStreamAtItsConfiguredPeriod() {
    assertEquals(60_000, StreamEngine.trimPeriodMs(new StreamPolicy("s", "g").soleReader(true)));
    assertEquals(120_000, StreamEngine.trimPeriodMs(new StreamPolicy("s", "g").soleReader(true).trimIntervalMs(120_000)));
    assertEquals(1_000, StreamEngine.trimPeriodMs(new StreamPolicy("s", "g")));
    assertEquals(250, StreamEngine.trimPeriodMs(new StreamPolicy("s", "g").trimIntervalMs(250)));
  }
}
