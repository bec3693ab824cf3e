package dev.biogate.upstream;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.HashSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Stopped walks are kept first come, first kept, each for a time counted from its first page. A re-drill found a
 * cache that weighed walks by how often they were put keeping a few large profiles read once a minute for ever and
 * turning away every new stranger's walk (4 windows of the first-sight share spent on one 25-page profile, never
 * resumed); and a walk resumed after a change was written served the profile from before it.
 */
class StoppedWalksTest {

  private long now = 1_000_000;

  private LinktreeClient.Walk walk(long jsonBytes) {
    return new LinktreeClient.Walk(new JsonObject(), new JsonArray(), "c", new HashSet<>(), 1, jsonBytes, now);
  }

  @Test
  void aWalkThatDoesNotFitIsNotKeptAndTheKeptOnesLeaveRoomWhenTheirTimeIsUp() {
    // Room for two walks of 100 KB of JSON (600 KB of heap each, plus 1 KiB).
    StoppedWalks walks = new StoppedWalks(2 * (1024 + 6 * 100_000), 300_000, () -> now);
    LinktreeClient.Walk a = walk(100_000);
    LinktreeClient.Walk b = walk(100_000);
    assertTrue(walks.keep("a", a, 7));
    assertTrue(walks.keep("b", b, 7));
    now += 60_000;
    LinktreeClient.Walk c = walk(100_000);
    assertFalse(walks.keep("c", c, 7), "no room: the walks kept first go on");
    // a is taken up and stopped again, as a profile read once a minute would be: its time still counts from its start.
    assertSame(a, walks.take("a", 7));
    assertTrue(walks.keep("a", a, 7));
    now += 240_000;
    assertTrue(walks.keep("c", walk(100_000), 7), "a and b have had their five minutes: room for another");
    assertNull(walks.take("a", 7));
    assertNull(walks.take("b", 7));
    assertEquals(1024 + 6 * 100_000, walks.heldBytes());
  }

  @Test
  void aWalkIsTakenUpOnlyForTheVersionItStartedFrom() {
    StoppedWalks walks = new StoppedWalks(1 << 20, 300_000, () -> now);
    LinktreeClient.Walk a = walk(1_000);
    assertTrue(walks.keep("a", a, 7));
    assertNull(walks.take("a", 8), "a change was written since: its pages are of another profile");
    assertNull(walks.take("a", 7), "and it is gone");
    assertEquals(0, walks.heldBytes());
    assertTrue(walks.keep("a", a, 7));
    assertSame(a, walks.take("a", 7));
    assertEquals(0, walks.heldBytes());
  }
}
