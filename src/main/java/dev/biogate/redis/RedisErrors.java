package dev.biogate.redis;

import io.vertx.redis.client.impl.types.ErrorType;

/** What a failed Redis call says, short enough for one log line and never a payload. */
public final class RedisErrors {

  private static final int MAX_CODE = 32;

  private RedisErrors() {
  }

  /**
   * The error code of a Redis error reply (OOM, CLUSTERDOWN, READONLY, NOSCRIPT, ...); inside a script's error or a
   * pipeline's, the inner one. {@code null} when {@code err} is not an error reply (a lost connection, a timeout).
   */
  public static String code(Throwable err) {
    if (!(err instanceof ErrorType) || err.getMessage() == null) {
      return null;
    }
    String m = err.getMessage();
    int inner = m.lastIndexOf(": -");
    if (inner >= 0) {
      m = m.substring(inner + 3);
    } else if (m.startsWith("ERR [") && m.indexOf("] ") > 0) {
      m = m.substring(m.indexOf("] ") + 2);
    }
    String code = m.split("\\s", 2)[0];
    return code.length() <= MAX_CODE ? code : code.substring(0, MAX_CODE);
  }

  /**
   * What a failed Redis call says in a log line: an error reply by Redis's own code ({@link #code}), anything else (a
   * lost connection, a timeout) by its kind. Never a payload.
   */
  public static String describe(Throwable err) {
    String code = code(err);
    return code != null ? code : err.getClass().getSimpleName();
  }
}
