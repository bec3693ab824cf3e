package dev.biogate.webhook;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A shard counts as refusing from a refused write until its next accepted one, or for 10 s when nothing follows. */
class ShardRefusalsTest {

  @Test
  void aRefusalLastsUntilTheNextAcceptedWriteOrTheWindow() {
    AtomicLong now = new AtomicLong(1_000_000);
    ShardRefusals refusals = new ShardRefusals(16, now::get);
    assertEquals(0, refusals.count());
    refusals.refused(3);
    refusals.refused(7);
    refusals.accepted(5);
    assertEquals(2, refusals.count());
    refusals.accepted(7);
    assertEquals(1, refusals.count(), "shard 7 accepted a write since");
    now.addAndGet(ShardRefusals.WINDOW_MS - 1);
    assertEquals(1, refusals.count());
    now.addAndGet(1);
    assertEquals(0, refusals.count(), "nothing sent to shard 3 for the window");
    refusals.refused(3);
    assertEquals(1, refusals.count(), "refused again");
  }
}
