package dev.biogate.support;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.function.Supplier;

/**
 * Waiting for a condition in tests without sleeping: polls every 25 ms on a Vert.x timer; a failed check counts as
 * "not yet"; past the deadline the returned future fails with an {@link AssertionError} naming what was awaited.
 * <p>
 * One promise serves the whole wait and each check is started afresh from a timer: a wait of thousands of checks
 * must not chain one future per check, or meeting the condition completes them all in one nested call that
 * overflows the event loop's stack (the completion is lost and the test hangs until its timeout).
 */
public final class Eventually {

  private static final long POLL_MS = 25;

  private Eventually() {
  }

  public static Future<Void> until(Vertx vertx, Supplier<Future<Boolean>> condition, long timeoutMs, String what) {
    return until(vertx, condition, timeoutMs, what, POLL_MS);
  }

  /** Like {@link #until(Vertx, Supplier, long, String)}, checking every {@code pollMs} (0: on the next event-loop turn). */
  public static Future<Void> until(Vertx vertx, Supplier<Future<Boolean>> condition, long timeoutMs, String what, long pollMs) {
    Promise<Void> done = Promise.promise();
    check(vertx, condition, System.currentTimeMillis() + timeoutMs, what, pollMs, done);
    return done.future();
  }

  public static Future<Void> until(Vertx vertx, Supplier<Future<Boolean>> condition, long timeoutMs) {
    return until(vertx, condition, timeoutMs, "condition met within " + timeoutMs + " ms");
  }

  private static void check(Vertx vertx, Supplier<Future<Boolean>> condition, long deadline, String what, long pollMs,
                            Promise<Void> done) {
    Future<Boolean> now;
    try {
      now = condition.get();
    } catch (RuntimeException | AssertionError e) {
      done.fail(e); // a check that throws is a broken test, not "not yet"
      return;
    }
    now.otherwise(false).onComplete(ar -> {
      if (Boolean.TRUE.equals(ar.result())) {
        done.complete();
      } else if (System.currentTimeMillis() > deadline) {
        done.fail(new AssertionError("timed out waiting for: " + what));
      } else {
        if (pollMs > 0) {
          vertx.setTimer(pollMs, t -> check(vertx, condition, deadline, what, pollMs, done));
        } else {
          vertx.runOnContext(v -> check(vertx, condition, deadline, what, pollMs, done));
        }
      }
    });
  }
}
