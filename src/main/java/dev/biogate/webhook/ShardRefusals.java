package dev.biogate.webhook;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * The webhook shards whose last write was refused (Redis unreachable or still loading, no replica acknowledging in
 * time) with none accepted since: while a shard is here its deliveries are answered 503, and {@code /health} says
 * so. A Cluster master failover shows here, where the Sentinel-only state of {@code ReplicaWatch} does not. A shard
 * leaves at its next accepted write, or {@link #WINDOW_MS} after its last refusal when nothing was sent to it since.
 */
final class ShardRefusals {

  static final long WINDOW_MS = 10_000;

  private final AtomicLongArray refusedAt;
  private final LongSupplier clock;

  ShardRefusals(int shards, LongSupplier clock) {
    this.refusedAt = new AtomicLongArray(shards);
    this.clock = clock;
  }

  void refused(int shard) {
    refusedAt.set(shard, Math.max(1, clock.getAsLong()));
  }

  /** On every accepted write: a plain read unless the shard was refused (no write contention on the ingest path). */
  void accepted(int shard) {
    if (refusedAt.get(shard) != 0) {
      refusedAt.set(shard, 0);
    }
  }

  int count() {
    long now = clock.getAsLong();
    int n = 0;
    for (int shard = 0; shard < refusedAt.length(); shard++) {
      long at = refusedAt.get(shard);
      if (at != 0 && now - at < WINDOW_MS) {
        n++;
      }
    }
    return n;
  }
}
