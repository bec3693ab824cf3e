package dev.biogate.analytics;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many analytics queries run at once on this instance: {@code max} in all, and one creator at most a
 * {@link #CREATOR_SHARE}th of them (at least one). Without the share, one creator's key querying by the minute on 70
 * connections held every slot, and 13 % of another creator's queries were answered {@code 503 busy} (40 % with the
 * loop spread over 4 addresses).
 */
final class QuerySlots {

  static final int CREATOR_SHARE = 8;

  private final int max;
  private final int perCreator;
  private final AtomicInteger running = new AtomicInteger();
  /** Slots held per creator; an entry lives only while that creator has a query running. */
  private final ConcurrentHashMap<String, Integer> byCreator = new ConcurrentHashMap<>();

  QuerySlots(int max) {
    this.max = max;
    this.perCreator = Math.max(1, max / CREATOR_SHARE);
  }

  /** Takes a slot for {@code creator}, or none and false when its share or every slot is taken. */
  boolean take(String creator) {
    if (byCreator.merge(creator, 1, Integer::sum) > perCreator) {
      giveBack(creator);
      return false;
    }
    if (running.incrementAndGet() > max) {
      running.decrementAndGet();
      giveBack(creator);
      return false;
    }
    return true;
  }

  /** Gives back a slot {@link #take} gave {@code creator}. */
  void release(String creator) {
    running.decrementAndGet();
    giveBack(creator);
  }

  private void giveBack(String creator) {
    byCreator.computeIfPresent(creator, (k, held) -> held <= 1 ? null : held - 1);
  }

  int perCreator() {
    return perCreator;
  }

  int running() {
    return running.get();
  }
}
