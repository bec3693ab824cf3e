package dev.biogate.stream;

import io.vertx.core.Future;

/**
 * What a consumer of a stream does with one entry. Called on the engine's context, possibly for several entries at
 * once (up to the policy's {@code maxHeld}); a failed future or a timeout counts as {@link Outcome#retry}. Handlers
 * must be idempotent per entry: delivery is at least once (an instance can die between the work and the ack).
 * <p>
 * A handler whose work cannot be taken back (an HTTP call to a third party) implements
 * {@link #handle(StreamEntry, Ownership)} and confirms ownership right before the work: an entry kept earlier
 * ({@link Outcome#keep}) was left idle on purpose, so another instance may have taken it over meanwhile.
 */
@FunctionalInterface
public interface StreamHandler {

  Future<Outcome> handle(StreamEntry entry);

  /** {@link #handle(StreamEntry)} with the means to confirm ownership; by default ownership is not asked about. */
  default Future<Outcome> handle(StreamEntry entry, Ownership ownership) {
    return handle(entry);
  }

  /**
   * Called once by the engine with what to call, on any thread, whenever a receiver finished one of its attempts under
   * way, so an entry that {@link Outcome#park parked} on it is offered again. A handler that never parks ignores it.
   */
  default void onReceiverFree(java.util.function.Consumer<String> listener) {
  }

  /**
   * The receiver {@code entry} would be sent to, for a handler that parks entries on receivers: an entry read while
   * older ones are parked on its receiver is parked behind them, without an attempt, so they go out oldest first.
   * {@code null} (the default): not known, every entry read is attempted.
   */
  default String receiverOf(StreamEntry entry) {
    return null;
  }

  /** The engine's answer to "is this entry still mine to work on?", for one attempt of one entry. */
  @FunctionalInterface
  interface Ownership {

    /**
     * Completes {@code true} when this consumer still owns the entry: in the same atomic step its idle time is reset,
     * and from then on the engine touches it until the attempt's outcome is recorded, so no other consumer takes it
     * over while the work runs. {@code false} when another consumer took it over (or it was acknowledged): the
     * handler must not do the work, and the engine lets the entry go whatever the handler answers. Fails when Redis
     * cannot tell (the handler should keep the entry).
     */
    Future<Boolean> confirm();
  }
}
