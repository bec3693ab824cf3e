package dev.biogate.redis;

import dev.biogate.support.LogCapture;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.SocketException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * vertx-redis-client logs every socket error of a pooled connection at ERROR with a stack trace ("Unhandled Error"),
 * once per connection to a node that was killed: a Cluster drill saw one per connection on every kill. The
 * connection fails its pending commands to their callers, which handle them, so a socket error is one throttled WARN
 * line without a stack, through the production logging configuration; anything else the client calls unhandled
 * stays an ERROR.
 */
class RedisSocketErrorLogTest {

  /** The logger vertx-redis-client's connection manager writes "Unhandled Error" to. */
  private static final Logger CLIENT = LoggerFactory.getLogger("io.vertx.redis.client.impl.RedisConnectionManager");

  /**
   * docs/scaling.md: "one WARN line per 10 s without a stack ('a redis connection failed (...)')". The filter the
   * production logging configuration installed is swapped for a fresh one of the same class for the test, so its
   * throttle has written nothing yet (another test's socket error must not make this one pass with no line at all).
   */
  @Test
  void aSocketErrorOfAPooledConnectionIsOneWarnLineWithoutAStack() {
    List<String> lines;
    try (FreshFilter fresh = new FreshFilter();
         LogCapture logged = LogCapture.root(e -> LogCapture.warnOrAbove(e)
           ? e.getLevel() + " " + e.getFormattedMessage() + (e.getThrowableProxy() == null ? "" : " +stack") : null)) {
      for (int i = 0; i < 5; i++) {
        CLIENT.error("Unhandled Error", new SocketException("Connection reset"));
      }
      CLIENT.error("Unhandled Error", new IllegalStateException("Result is already complete"));
      lines = logged.lines();
    }
    assertEquals(2, lines.size(), "one line for the five socket errors, then the other error: " + lines);
    String socket = lines.get(0);
    assertTrue(socket.startsWith("WARN a redis connection failed (java.net.SocketException: Connection reset)"), socket);
    assertTrue(!socket.contains("+stack"), "without a stack: " + socket);
    String last = lines.get(1);
    assertTrue(last.startsWith("ERROR ") && last.contains("+stack"), "not a socket error: kept as it is: " + last);
  }

  /** The throttle the filter uses (its default): a line, then nothing more for 10 s, then the next one. */
  @Test
  void theThrottleWritesOneLinePer10Seconds() {
    assertEquals(10_000, ThrottledLog.INTERVAL_MS);
    ThrottledLog throttle = new ThrottledLog();
    Logger quiet = org.slf4j.helpers.NOPLogger.NOP_LOGGER;
    assertTrue(throttle.warn(quiet, 1_000_000, "more", "first"), "the first occurrence is written at once");
    assertTrue(!throttle.warn(quiet, 1_000_000 + 9_999, "more", "within 10 s"), "counted, not written, within 10 s");
    assertTrue(throttle.warn(quiet, 1_000_000 + 10_000, "more", "10 s on"), "written again 10 s after the last line");
  }

  /**
   * Replaces the {@link RedisSocketErrors} filter of the logging context with a new one while open, and puts the
   * original back on close.
   */
  private static final class FreshFilter implements AutoCloseable {
    private final ch.qos.logback.classic.LoggerContext context =
      (ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory();
    private final List<ch.qos.logback.classic.turbo.TurboFilter> original = List.copyOf(context.getTurboFilterList());
    private final RedisSocketErrors fresh = new RedisSocketErrors();

    FreshFilter() {
      assertTrue(original.stream().anyMatch(f -> f instanceof RedisSocketErrors),
        "the production logging configuration installs the filter: " + original);
      fresh.setContext(context);
      fresh.start();
      context.getTurboFilterList().replaceAll(f -> f instanceof RedisSocketErrors ? fresh : f);
    }

    @Override
    public void close() {
      context.getTurboFilterList().clear();
      context.getTurboFilterList().addAll(original);
    }
  }

  /**
   * The client's own "Connection was closed" (a pooled connection closed under its pending commands) is one too: a
   * Cluster drill saw it at ERROR with a stack, 2 to 6 lines, on clean starts against a healthy Cluster.
   */
  @Test
  void aConnectionClosedUnderItsCommandsIsASocketErrorToo() {
    List<String> lines;
    try (LogCapture logged = LogCapture.root(e -> LogCapture.warnOrAbove(e) ? e.getLevel().toString() : null)) {
      CLIENT.error("Unhandled Error", new io.vertx.core.VertxException("Connection was closed"));
      lines = logged.lines();
    }
    assertTrue(lines.stream().noneMatch("ERROR"::equals), lines.toString());
  }

  @Test
  void anIOExceptionIsASocketErrorToo() {
    List<String> lines;
    try (LogCapture logged = LogCapture.root(e -> LogCapture.warnOrAbove(e) ? e.getLevel().toString() : null)) {
      CLIENT.error("Unhandled Error", new IOException("Broken pipe"));
      lines = logged.lines();
    }
    assertTrue(lines.stream().noneMatch("ERROR"::equals), lines.toString());
  }
}
