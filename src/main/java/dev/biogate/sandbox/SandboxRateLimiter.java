package dev.biogate.sandbox;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * An exact sliding-log limiter per token: at most {@code limit} admitted requests in any {@code windowMs}
 * interval. Rejected requests are not logged, so a client that keeps retrying is admitted again as soon
 * as its oldest admitted request leaves the window. Thread-safe.
 */
public final class SandboxRateLimiter {

  /**
   * The outcome of one request.
   *
   * @param allowed whether the request was admitted (and logged)
   * @param remaining requests the token may still make in the current window, for {@code X-RateLimit-Remaining}
   * @param retryAfterSeconds when rejected, whole seconds until a slot frees (at least 1); else 0
   */
  public record Decision(boolean allowed, int remaining, long retryAfterSeconds) {
  }

  private final int limit;
  private final long windowMs;
  private final LongSupplier clockMs;
  private final Map<String, ArrayDeque<Long>> logs = new HashMap<>();

  public SandboxRateLimiter(int limit, long windowMs) {
    this(limit, windowMs, () -> System.nanoTime() / 1_000_000);
  }

  SandboxRateLimiter(int limit, long windowMs, LongSupplier clockMs) {
    if (limit < 1 || windowMs < 1) {
      throw new IllegalArgumentException("limit and window must be positive");
    }
    this.limit = limit;
    this.windowMs = windowMs;
    this.clockMs = clockMs;
  }

  public int limit() {
    return limit;
  }

  public long windowMs() {
    return windowMs;
  }

  /** Admits and logs the request if the token has a free slot in the window ending now. */
  public synchronized Decision tryAcquire(String token) {
    long now = clockMs.getAsLong();
    ArrayDeque<Long> log = logs.computeIfAbsent(token, t -> new ArrayDeque<>());
    prune(log, now);
    if (log.size() < limit) {
      log.addLast(now);
      return new Decision(true, limit - log.size(), 0);
    }
    long waitMs = log.peekFirst() + windowMs - now;
    return new Decision(false, 0, Math.max(1, (waitMs + 999) / 1000));
  }

  /** Requests the token may still make now, without consuming one. */
  public synchronized int remaining(String token) {
    ArrayDeque<Long> log = logs.get(token);
    if (log == null) {
      return limit;
    }
    prune(log, clockMs.getAsLong());
    return limit - log.size();
  }

  /** Forgets every token's history. */
  public synchronized void reset() {
    logs.clear();
  }

  private void prune(ArrayDeque<Long> log, long now) {
    // An entry logged at t counts while t > now - windowMs.
    while (!log.isEmpty() && log.peekFirst() <= now - windowMs) {
      log.pollFirst();
    }
  }
}
