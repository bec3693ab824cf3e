package dev.biogate.http;

import io.vertx.core.VertxException;

/**
 * A failure that maps to one HTTP answer: status, machine-readable code, human message and, for 429/503, the
 * seconds a client should wait. Stackless: expected failures on hot paths must stay cheap. Mapped to a response in
 * exactly one place, {@link ErrorResponses}.
 */
public final class ApiException extends VertxException {

  private final int status;
  private final String code;
  private final long retryAfterSeconds;
  /** The RateLimit policy item of the limit that refused ({@code "name";q=..;w=..}), or {@code null}. */
  private final String rateLimitPolicy;

  public ApiException(int status, String code, String message) {
    this(status, code, message, 0);
  }

  public ApiException(int status, String code, String message, long retryAfterSeconds) {
    this(status, code, message, retryAfterSeconds, null);
  }

  private ApiException(int status, String code, String message, long retryAfterSeconds, String rateLimitPolicy) {
    super(message, true);
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
    this.rateLimitPolicy = rateLimitPolicy;
  }

  /**
   * This refusal, described by the limit that made it (draft-ietf-httpapi-ratelimit-headers): the answer carries
   * {@code RateLimit-Policy: "<policy>";q=<quota>;w=<window s>} and {@code RateLimit: "<policy>";r=0;t=<Retry-After>}
   * beside any other limit's fields.
   */
  public ApiException limitedBy(String policy, long quota, long windowSeconds) {
    return new ApiException(status, code, getMessage(), retryAfterSeconds, "\"" + policy + "\";q=" + quota + ";w=" + windowSeconds);
  }

  public int status() { return status; }
  public String code() { return code; }
  public long retryAfterSeconds() { return retryAfterSeconds; }
  public String rateLimitPolicy() { return rateLimitPolicy; }

  /**
   * {@code 503 not_replicated}: a write the answer would acknowledge (a delivery, a job, a replay...) reached no replica
   * in time, so a failover could still undo it; the caller retries, and every such write is idempotent.
   */
  public static ApiException notReplicated(String what) {
    return new ApiException(503, "not_replicated", what + " could not be made durable in time; retry later", 5);
  }

  public static long seconds(long ms) {
    return Math.max(1, (ms + 999) / 1000);
  }
}
