package dev.biogate.profile;

import dev.biogate.upstream.UpstreamException;
import io.vertx.core.VertxException;

/**
 * Why a profile could not be served: no usable copy, and no way to get one now. Says what went wrong, never how to
 * answer it; {@link ProfileErrors} is the one place these become HTTP responses. Stackless (expected during
 * outages, on the read path).
 */
public final class ProfileFailure extends VertxException {

  /** What went wrong. */
  public enum Kind {
    /** The upstream failed (5xx, timeout, connection) or another instance's fetch did not land in time. */
    UPSTREAM_UNAVAILABLE,
    /** The circuit breaker is open: the upstream is failing and is not being called. */
    CIRCUIT_OPEN,
    /** The shared upstream budget is spent or cannot be checked (Redis unreachable), or the upstream answered 429. */
    RATE_LIMITED,
    /** The upstream refused the gateway's credentials. */
    UPSTREAM_AUTH
  }

  static final long DEFAULT_RETRY_AFTER_MS = 5_000;

  private final Kind kind;
  private final long retryAfterMs;

  public ProfileFailure(Kind kind, long retryAfterMs) {
    super(kind.name(), true);
    this.kind = kind;
    this.retryAfterMs = retryAfterMs > 0 ? retryAfterMs : DEFAULT_RETRY_AFTER_MS;
  }

  /** The failure an upstream error leaves when there is no copy to fall back on. */
  static ProfileFailure of(UpstreamException e) {
    switch (e.kind()) {
      case CIRCUIT_OPEN: return new ProfileFailure(Kind.CIRCUIT_OPEN, e.retryAfterMs());
      case RATE_LIMITED:
      case BUDGET_EXHAUSTED: return new ProfileFailure(Kind.RATE_LIMITED, e.retryAfterMs());
      case AUTH: return new ProfileFailure(Kind.UPSTREAM_AUTH, e.retryAfterMs());
      default: return new ProfileFailure(Kind.UPSTREAM_UNAVAILABLE, e.retryAfterMs());
    }
  }

  public Kind kind() {
    return kind;
  }

  /** When trying again may succeed, from now. */
  public long retryAfterMs() {
    return retryAfterMs;
  }
}
