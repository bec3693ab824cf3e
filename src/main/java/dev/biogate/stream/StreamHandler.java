package dev.biogate.stream;

import io.vertx.core.Future;

/**
 * What a consumer of a stream does with one entry. Called on the engine's context, possibly for several entries at
 * once (up to the policy's {@code maxHeld}); a failed future or a timeout counts as {@link Outcome#retry}. Handlers
 * must be idempotent per entry: delivery is at least once (an instance can die between the work and the ack).
 */
@FunctionalInterface
public interface StreamHandler {

  Future<Outcome> handle(StreamEntry entry);
}
