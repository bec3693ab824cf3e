package dev.biogate.redis;

import dev.biogate.support.LogCapture;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.SocketException;
import java.util.List;

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

  @Test
  void aSocketErrorOfAPooledConnectionIsOneWarnLineWithoutAStack() {
    List<String> lines;
    try (LogCapture logged = LogCapture.root(e -> LogCapture.warnOrAbove(e)
      ? e.getLevel() + " " + e.getFormattedMessage() + (e.getThrowableProxy() == null ? "" : " +stack") : null)) {
      for (int i = 0; i < 5; i++) {
        CLIENT.error("Unhandled Error", new SocketException("Connection reset"));
      }
      CLIENT.error("Unhandled Error", new IllegalStateException("Result is already complete"));
      lines = logged.lines();
    }
    // At most one line for the five (none when another test's socket error was written less than 10 s ago).
    List<String> socket = lines.subList(0, lines.size() - 1);
    assertTrue(socket.size() <= 1, lines.toString());
    socket.forEach(l -> assertTrue(l.startsWith("WARN ") && l.contains("Connection reset") && !l.contains("+stack"), l));
    String last = lines.get(lines.size() - 1);
    assertTrue(last.startsWith("ERROR ") && last.contains("+stack"), "not a socket error: kept as it is: " + last);
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
