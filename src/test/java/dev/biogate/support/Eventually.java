package dev.biogate.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.function.Supplier;

/**
 * Waiting for a condition in tests without sleeping: polls every 25 ms on a Vert.x timer; a failed check counts as
 * "not yet"; past the deadline the returned future fails with an {@link AssertionError} naming what was awaited.
 */
public final class Eventually {

  private static final long POLL_MS = 25;

  private Eventually() {
  }

  public static Future<Void> until(Vertx vertx, Supplier<Future<Boolean>> condition, long timeoutMs, String what) {
    return poll(vertx, condition, System.currentTimeMillis() + timeoutMs, what);
  }

  public static Future<Void> until(Vertx vertx, Supplier<Future<Boolean>> condition, long timeoutMs) {
    return until(vertx, condition, timeoutMs, "condition met within " + timeoutMs + " ms");
  }

  private static Future<Void> poll(Vertx vertx, Supplier<Future<Boolean>> condition, long deadline, String what) {
    return condition.get().otherwise(false).compose(ok -> {
      if (ok) {
        return Future.succeededFuture();
      }
      if (System.currentTimeMillis() > deadline) {
        return Future.failedFuture(new AssertionError("timed out waiting for: " + what));
      }
      return vertx.timer(POLL_MS).compose(t -> poll(vertx, condition, deadline, what));
    });
  }
}
