package dev.biogate.redis;

import io.vertx.core.VertxException;
import io.vertx.redis.client.impl.types.ErrorType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which failures replace a client (see {@link RefusedHandshakeTest} for the whole of it on a real server). A re-drill
 * found the Sentinel client's failure to reach any Sentinel, whose Sentinels all refused the password, was not taken
 * for a refused handshake: its connections were left open, one per Sentinel per topology refresh, for good.
 */
class RenewingClientTest {

  @Test
  void refusedHandshakesAreToldFromOtherFailures() {
    assertTrue(RenewingClient.handshakeRefused(ErrorType.create("WRONGPASS invalid username-password pair or user is disabled.")));
    assertTrue(RenewingClient.handshakeRefused(ErrorType.create("NOAUTH Authentication required.")));
    assertTrue(RenewingClient.handshakeRefused(ErrorType.create("ERR DB index is out of range")));
    // What vertx-redis-client 5.0.x fails a Sentinel client's connect with when every Sentinel refused it.
    assertTrue(RenewingClient.handshakeRefused(VertxException.noStackTrace("Cannot connect to any of the provided endpoints\n"
      + "- WRONGPASS invalid username-password pair or user is disabled.\n- WRONGPASS invalid username-password pair")));
    assertFalse(RenewingClient.handshakeRefused(VertxException.noStackTrace("Cannot connect to any of the provided endpoints\n"
      + "- io.netty.channel.AbstractChannel$AnnotatedConnectException: Connection refused")));
    assertFalse(RenewingClient.handshakeRefused(ErrorType.create("WRONGTYPE Operation against a key holding the wrong kind of value")));
    assertFalse(RenewingClient.handshakeRefused(VertxException.noStackTrace("Connection reset")));
  }
}
