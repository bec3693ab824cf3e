package dev.biogate.redis;

import io.vertx.core.VertxException;
import io.vertx.redis.client.impl.types.ErrorType;

import java.io.IOException;
import java.net.ConnectException;
import java.util.Set;
import java.util.concurrent.TimeoutException;

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
    if (!redisCode(code)) {
      return null; // the client's own text in an error reply (a Java exception's name): no Redis code
    }
    return code.length() <= MAX_CODE ? code : code.substring(0, MAX_CODE);
  }

  /** Redis error codes are upper-case words: ERR, OOM, CLUSTERDOWN, NOSCRIPT. */
  private static boolean redisCode(String s) {
    if (s.isEmpty() || s.charAt(0) < 'A' || s.charAt(0) > 'Z') {
      return false;
    }
    for (int i = 1; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') && c != '_' && c != '-') {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether Redis refused a call because it is still loading its data set (after a restart, or a replica's full
   * sync): it answers {@code INFO} meanwhile, and refuses every data command.
   */
  public static boolean loading(Throwable err) {
    return "LOADING".equals(code(err));
  }

  /**
   * What a failed Redis call says in a log line: an error reply by Redis's own code ({@link #code}), anything else (a
   * lost connection, a timeout) by its kind. Never a payload.
   */
  public static String describe(Throwable err) {
    String code = code(err);
    if (code != null) {
      return code;
    }
    for (Throwable c = err; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof ConnectException) {
        return "connection refused";
      }
      if (connectionLevel(c)) {
        return "connection lost";
      }
      if (c instanceof TimeoutException) {
        return "timeout";
      }
      if (c instanceof VertxException && c.getMessage() != null && c.getMessage().length() <= 60) {
        return c.getMessage();
      }
    }
    return err.getClass().getSimpleName();
  }

  /** Replies that say Redis cannot serve the call now, not that the call is wrong: a failover, a load, a full memory. */
  private static final Set<String> UNAVAILABLE_CODES = Set.of("CLUSTERDOWN", "TRYAGAIN", "LOADING",
    "MASTERDOWN", "READONLY", "NOREPLICAS", "OOM", "BUSY",
    // A redirection the cluster client did not follow to its end: the slots still moving (right after a failover), or
    // a pipeline of several commands, which the client leaves to its caller.
    "MOVED", "ASK",
    // Not Redis's: the Vert.x client fails a command in flight when its connection drops with this "error reply".
    "CONNECTION_CLOSED");

  /**
   * Whether {@code err} (or a cause of it) says Redis could not be reached or cannot serve now: a refused or broken
   * connection, a connection not replaced yet after a failover, an error reply such as CLUSTERDOWN or LOADING, or a
   * write no replica acknowledged in time ({@link NotDurableException}: the seconds of a failover, as a drill saw LinkMe
   * clicks spend attempts on), or a Redis call unanswered past its deadline ({@link RedisTimeoutException}: a drill saw
   * clicks dead-lettered after five of them in a failover). Any other timeout is not counted: it is the work's own.
   */
  public static boolean unavailable(Throwable err) {
    for (Throwable c = err; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof NotDurableException || c instanceof RedisTimeoutException) {
        return true;
      }
      String code = code(c);
      if (code != null) {
        return UNAVAILABLE_CODES.contains(code);
      }
      if (connectionLevel(c)) {
        return true;
      }
      if (c instanceof VertxException && c.getMessage() != null
        && (c.getMessage().startsWith("redis connection not replaced yet") || c.getMessage().contains("Connection is closed"))) {
        return true;
      }
    }
    return false;
  }

  /**
   * A refused, reset or closed connection (ConnectException, ClosedChannelException, Netty's native errors), also when
   * the client wraps it in an error reply that carries the exception's text instead of a Redis code.
   */
  private static boolean connectionLevel(Throwable c) {
    return c instanceof IOException || c instanceof ErrorType && String.valueOf(c.getMessage()).contains("Exception");
  }
}
