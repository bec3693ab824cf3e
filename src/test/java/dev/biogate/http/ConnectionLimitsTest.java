package dev.biogate.http;

import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Who is held to which connection ceiling, and that every admitted connection gives its places back. */
class ConnectionLimitsTest {

  private static SocketAddress peer(String ip) {
    return SocketAddress.inetSocketAddress(40_000, ip);
  }

  @Test
  void eachClientAddressHasItsOwnCeiling() {
    ConnectionLimits limits = new ConnectionLimits(100, 2, List.of(), false);
    ConnectionLimits.Admitted a1 = limits.admit(peer("203.0.113.7"));
    assertNotNull(limits.admit(peer("203.0.113.7")));
    assertNull(limits.admit(peer("203.0.113.7")), "a third connection from one address");
    assertNotNull(limits.admit(peer("203.0.113.8")), "another address is not affected");
    limits.release(a1);
    assertNotNull(limits.admit(peer("203.0.113.7")), "a released place is free again");
    assertEquals(3, limits.open());
    assertEquals(1, limits.refused());
  }

  @Test
  void trustedProxiesAndExemptLoopbackAreHeldToTheListenersCeilingOnly() {
    ConnectionLimits limits = new ConnectionLimits(5, 1, List.of("10.0.0.0/8"), true);
    assertNotNull(limits.admit(peer("10.1.2.3")));
    assertNotNull(limits.admit(peer("10.1.2.3")), "a trusted proxy carries many clients");
    assertNotNull(limits.admit(peer("127.0.0.1")));
    assertNotNull(limits.admit(peer("127.0.0.1")), "loopback is exempt when configured");
    assertNotNull(limits.admit(peer("198.51.100.1")));
    assertNull(limits.admit(peer("10.1.2.3")), "the listener's ceiling holds for everyone");
    assertEquals(5, limits.open());
  }

  @Test
  void noPerClientCeilingWhenItIsZero() {
    ConnectionLimits limits = new ConnectionLimits(3, 0, List.of(), false);
    for (int i = 0; i < 3; i++) {
      assertNotNull(limits.admit(peer("198.51.100.1")));
    }
    assertNull(limits.admit(peer("198.51.100.1")));
  }

  @Test
  void withoutAConfiguredCeilingTheListenerLeavesDescriptorsInReserve() {
    int max = ConnectionLimits.fromDescriptorLimit();
    long fds = ((com.sun.management.UnixOperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
      .getMaxFileDescriptorCount();
    assertTrue(max < fds && max >= fds - ConnectionLimits.RESERVE && max >= fds * 3 / 4, max + " of " + fds);
  }
}
