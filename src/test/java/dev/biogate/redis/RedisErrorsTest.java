package dev.biogate.redis;

import io.vertx.redis.client.impl.types.ErrorType;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A failed Redis call in a log line: an error reply by Redis's own code, the inner one of a script's error; any other
 * failure by its kind. Outage lines used to say "ErrorType" whatever Redis answered.
 */
class RedisErrorsTest {

  @Test
  void anErrorReplyIsDescribedByItsCodeAndAnythingElseByItsKind() {
    assertEquals("OOM", RedisErrors.describe(ErrorType.create("OOM command not allowed when used memory > 'maxmemory'.")));
    assertEquals("OOM", RedisErrors.describe(ErrorType.create(
      "ERR Error running script (call to f_0123): @user_script:12: @user_script: 12: -OOM command not allowed")));
    assertEquals("READONLY", RedisErrors.describe(ErrorType.create("READONLY You can't write against a read only replica.")));
    assertEquals("timeout", RedisErrors.describe(new TimeoutException("timed out")));
    assertEquals("connection refused", RedisErrors.describe(new java.net.ConnectException("Connection refused: /127.0.0.1:7000")));
    assertEquals("connection lost", RedisErrors.describe(new java.nio.channels.ClosedChannelException()));
    assertEquals("connection lost", RedisErrors.describe(ErrorType.create(
      "io.netty.channel.unix.Errors$NativeIoException: recvAddress(..) failed: Connection reset by peer")));
    assertEquals("redis connection not replaced yet", RedisErrors.describe(io.vertx.core.VertxException.noStackTrace("redis connection not replaced yet")));
    assertNull(RedisErrors.code(new TimeoutException("timed out")), "no code for what is not an error reply");
  }

  /**
   * A write no replica acknowledged in time is Redis trouble, like CLUSTERDOWN: a stream handler that meets it holds
   * its entry without spending an attempt. A failover drill saw LinkMe click events spend attempts on it (and on
   * timeouts, which stay counted: a timeout may be the work's own), so a longer failover could dead-letter them.
   */
  @Test
  void aWriteNoReplicaAcknowledgedIsRedisTroubleAndATimeoutIsNot() {
    org.junit.jupiter.api.Assertions.assertTrue(RedisErrors.unavailable(ReplicaWatch.NOT_DURABLE));
    org.junit.jupiter.api.Assertions.assertTrue(RedisErrors.unavailable(
      new io.vertx.core.VertxException("handler failed", ReplicaWatch.NOT_DURABLE)), "also as a cause");
    org.junit.jupiter.api.Assertions.assertTrue(RedisErrors.unavailable(dev.biogate.analytics.ClickStreamWriterErrors.notReplicated()),
      "the click writer's own");
    org.junit.jupiter.api.Assertions.assertFalse(RedisErrors.unavailable(new TimeoutException("timed out")));
  }

  /**
   * A redirection the cluster client could not follow to its end (the topology still moving right after a failover,
   * or a pipeline of several commands, whose failure is its caller's) is Redis trouble: a drill saw LinkMe clicks spend
   * a handler attempt on {@code MOVED} right after a {@code CLUSTER FAILOVER}, handled 1-3 s later.
   */
  @Test
  void aRedirectionTheClientDidNotFollowIsRedisTrouble() {
    org.junit.jupiter.api.Assertions.assertTrue(RedisErrors.unavailable(ErrorType.create("MOVED 3999 127.0.0.1:7001")));
    org.junit.jupiter.api.Assertions.assertTrue(RedisErrors.unavailable(ErrorType.create("ASK 3999 127.0.0.1:7001")));
    org.junit.jupiter.api.Assertions.assertTrue(RedisErrors.unavailable(
      new io.vertx.core.VertxException("handler failed", ErrorType.create("MOVED 3999 127.0.0.1:7001"))), "also as a cause");
    org.junit.jupiter.api.Assertions.assertFalse(RedisErrors.unavailable(ErrorType.create("WRONGTYPE Operation against a key")),
      "a wrong call still spends its attempts");
  }
}
