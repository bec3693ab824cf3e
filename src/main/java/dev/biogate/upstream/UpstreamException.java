package dev.biogate.upstream;

import io.vertx.core.VertxException;

/**
 * An expected upstream failure. Stackless: these happen on hot paths during outages and must stay cheap.
 */
public final class UpstreamException extends VertxException {

  public enum Kind {
    /** The upstream has no such profile (404). */
    NOT_FOUND,
    /** The upstream answered 429; {@link #retryAfterMs()} says when to try again. */
    RATE_LIMITED,
    /** No permit left in our own budget; {@link #retryAfterMs()} is the time until the next one. */
    BUDGET_EXHAUSTED,
    /** The circuit breaker is open. */
    CIRCUIT_OPEN,
    /** 5xx, timeout, connection failure or malformed answer. */
    UNAVAILABLE,
    /** 401/403: our token is wrong or lacks scope. Not retried. */
    AUTH,
    /** Another 4xx: the upstream refused this request as invalid (a write with bad fields). Not retried. */
    REJECTED
  }

  private final Kind kind;
  private final long retryAfterMs;
  private final int status;

  public UpstreamException(Kind kind, String message, long retryAfterMs, int status) {
    super(message, true);
    this.kind = kind;
    this.retryAfterMs = retryAfterMs;
    this.status = status;
  }

  public static UpstreamException of(Kind kind, String message) {
    return new UpstreamException(kind, message, 0, 0);
  }

  public Kind kind() {
    return kind;
  }

  public long retryAfterMs() {
    return retryAfterMs;
  }

  /** The upstream HTTP status, 0 when there was none. */
  public int status() {
    return status;
  }

  /**
   * Whether this outcome says something is wrong with the upstream (5xx, timeout, connection, malformed answer): a
   * breaker failure, and worth another attempt. 404, 429, auth and our own budget denials are neither.
   */
  public boolean isUpstreamFault() {
    return kind == Kind.UNAVAILABLE;
  }
}
