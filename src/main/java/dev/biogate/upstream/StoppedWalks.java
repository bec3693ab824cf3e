package dev.biogate.upstream;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Walks of profiles' link pages that stopped for something that passes (no permit, a {@code 429}, an upstream fault),
 * kept by name so that the name's next fetch goes on from the page that was not fetched. First come, first kept:
 * a walk is kept only if it fits beside those already kept, each of which has {@code memoryMs} from its first page to
 * be finished, so the ones kept make progress and leave room in time (a cache that preferred the walks put most
 * often kept a few large profiles read once a minute and turned every other stranger away). A walk is resumed only
 * for the shared copy's version it started from: a change written since (a webhook, a purge) means its pages are of
 * another profile.
 */
final class StoppedWalks {

  /**
   * Heap a kept walk takes per byte of its links' JSON ({@link LinktreeClient#jsonBytes}): 74,000 small links held
   * 55-60 MB of live heap where their JSON came to about 6x less.
   */
  static final int HEAP_PER_JSON_BYTE = 6;

  private final long maxHeapBytes;
  private final long memoryMs;
  private final LongSupplier clock;
  private final Map<String, Kept> byName = new HashMap<>();
  private long heldBytes;

  private record Kept(LinktreeClient.Walk walk, long asOf, long bytes) {
  }

  StoppedWalks(long maxHeapBytes, long memoryMs, LongSupplier clock) {
    this.maxHeapBytes = maxHeapBytes;
    this.memoryMs = memoryMs;
    this.clock = clock;
  }

  /** Keeps {@code walk} (of the copy at version {@code asOf}) for its name's next fetch; false when it does not fit. */
  synchronized boolean keep(String name, LinktreeClient.Walk walk, long asOf) {
    long now = clock.getAsLong();
    drop(byName.remove(name));
    if (now - walk.startedMs >= memoryMs) {
      return false;
    }
    for (Iterator<Kept> it = byName.values().iterator(); it.hasNext(); ) {
      Kept k = it.next();
      if (now - k.walk.startedMs >= memoryMs) {
        it.remove();
        heldBytes -= k.bytes;
      }
    }
    long bytes = 1024 + HEAP_PER_JSON_BYTE * walk.bytes;
    if (heldBytes + bytes > maxHeapBytes) {
      return false;
    }
    byName.put(name, new Kept(walk, asOf, bytes));
    heldBytes += bytes;
    return true;
  }

  /** The walk kept for {@code name} if it started from version {@code asOf} and has time left, else null; taken. */
  synchronized LinktreeClient.Walk take(String name, long asOf) {
    Kept k = byName.remove(name);
    drop(k);
    return k == null || k.asOf != asOf || clock.getAsLong() - k.walk.startedMs >= memoryMs ? null : k.walk;
  }

  /** Heap the kept walks are estimated to take. */
  synchronized long heldBytes() {
    return heldBytes;
  }

  private void drop(Kept k) {
    if (k != null) {
      heldBytes -= k.bytes;
    }
  }
}
