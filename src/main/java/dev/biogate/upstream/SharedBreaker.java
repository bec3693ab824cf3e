package dev.biogate.upstream;

import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.util.concurrent.TimeUnit;

/**
 * What the instances' breakers to the upstream say, shared: an instance whose breaker opens marks it in Redis for the
 * breaker's reset time and a probe's length (half-open, a probe may still reopen it), and clears the mark when its
 * breaker closes again. {@code /health} on an instance that has
 * not called the upstream itself (its own breaker closed) then reports what a peer saw, instead of "healthy" during
 * an upstream outage. Only the health report reads it; calls are still decided by each instance's own breaker.
 */
public final class SharedBreaker {

  private static final long TIMEOUT_MS = 1_000;

  private final Redis redis;
  private final String key;
  private final long resetMs;

  /** {@code resetMs}: how long a mark lives unless its breaker closes first. */
  public SharedBreaker(Redis redis, String upstream, long resetMs) {
    this.redis = redis;
    this.key = RedisKeys.upstreamBreakerOpen(upstream);
    this.resetMs = Math.max(1, resetMs);
  }

  /** This instance's breaker opened or closed. Best effort: without Redis, peers simply do not hear of it. */
  public void changed(boolean open) {
    Request r = open ? Request.cmd(Command.SET).arg(key).arg("1").arg("PX").arg(resetMs) : Request.cmd(Command.DEL).arg(key);
    redis.send(r).timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS);
  }

  /** Whether some instance's breaker is open now; {@code false} when Redis does not say. */
  public Future<Boolean> openSomewhere() {
    return redis.send(Request.cmd(Command.EXISTS).arg(key)).timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .map(r -> r != null && r.toInteger() > 0).otherwise(false);
  }
}
