package dev.biogate.redis;

import io.vertx.core.Future;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A Redis call that got no answer within its deadline: Redis's trouble (a master frozen or overloaded in a failover),
 * not the caller's. Still a {@link TimeoutException} to whoever only asks that; {@link RedisErrors#unavailable} counts
 * it, so a stream handler whose Redis call timed out holds its entry instead of spending an attempt. A timeout of the
 * caller's own work (an HTTP call, a handler's deadline) stays a plain one. Stackless: expected, and said in one line.
 */
public final class RedisTimeoutException extends TimeoutException {

  private static final long serialVersionUID = 1L;

  public RedisTimeoutException(long ms) {
    super("redis call timed out after " + ms + " ms");
  }

  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }

  /** {@code call} (a Redis call) bounded by {@code ms}: past it, failed with a {@link RedisTimeoutException}. */
  public static <T> Future<T> within(Future<T> call, long ms) {
    return call.timeout(ms, TimeUnit.MILLISECONDS).recover(err -> Future.failedFuture(
      err instanceof TimeoutException && !(err instanceof RedisTimeoutException) ? new RedisTimeoutException(ms) : err));
  }
}
