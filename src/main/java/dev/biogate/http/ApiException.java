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

  public ApiException(int status, String code, String message) {
    this(status, code, message, 0);
  }

  public ApiException(int status, String code, String message, long retryAfterSeconds) {
    super(message, true);
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public int status() { return status; }
  public String code() { return code; }
  public long retryAfterSeconds() { return retryAfterSeconds; }

  public static long seconds(long ms) {
    return Math.max(1, (ms + 999) / 1000);
  }
}
