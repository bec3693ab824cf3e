package dev.biogate.analytics;

import dev.biogate.http.KeyedCeiling;

/**
 * How many analytics queries run at once on this instance: {@code max} in all, and one creator at most a
 * {@link #CREATOR_SHARE}th of them (at least one). Without the share, one creator's key querying by the minute on 70
 * connections held every slot, and 13 % of another creator's queries were answered {@code 503 busy} (40 % with the
 * loop spread over 4 addresses).
 */
final class QuerySlots {

  static final int CREATOR_SHARE = 8;

  private final KeyedCeiling slots;

  QuerySlots(int max) {
    this.slots = new KeyedCeiling(max, Math.max(1, max / CREATOR_SHARE));
  }

  /** Takes a slot for {@code creator}, or none and false when its share or every slot is taken. */
  boolean take(String creator) {
    return slots.reserve(creator, 1);
  }

  /** Gives back a slot {@link #take} gave {@code creator}. */
  void release(String creator) {
    slots.release(creator, 1);
  }

  int perCreator() {
    return (int) slots.perKey();
  }

  int running() {
    return (int) slots.used();
  }
}
