package dev.biogate.ops;

import io.vertx.core.Future;

import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The last result of an operation, reused while it is younger than {@code freshMs}, and one call in flight shared by
 * every caller meanwhile. For answers that anybody may ask for as often as they like (health checks, metrics
 * scrapes) but that cost a Redis round trip or a megabyte of text to produce: a flood of them costs at most one
 * operation per period. A failed result is not kept.
 */
final class Recent<T> {

  private final long freshMs;
  private final LongSupplier clock;
  private final Supplier<Future<T>> source;
  private Future<T> last;
  private long lastAtMs;

  Recent(long freshMs, LongSupplier clock, Supplier<Future<T>> source) {
    this.freshMs = freshMs;
    this.clock = clock;
    this.source = source;
  }

  synchronized Future<T> get() {
    long now = clock.getAsLong();
    if (last != null && (!last.isComplete() || (last.succeeded() && now - lastAtMs < freshMs))) {
      return last;
    }
    Future<T> next = source.get();
    last = next;
    lastAtMs = now;
    return next;
  }
}
