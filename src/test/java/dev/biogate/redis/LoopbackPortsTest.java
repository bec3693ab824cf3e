package dev.biogate.redis;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ports for Redis servers that are killed and restarted on the same port lie below the kernel's ephemeral range: a
 * port from that range (what binding port 0 gives) can be taken as the local port of an outgoing connection while
 * its server is down, and the restart then fails ("address already in use").
 */
class LoopbackPortsTest {

  @Test
  void theEmbeddedRedisPortsLieBelowTheEphemeralRangeAndAreFree() throws IOException {
    int low = LoopbackPorts.ephemeralLow();
    assertTrue(low >= 1_024, "the range's low end as read: " + low); // a whole-file read of the sysctl gave "3"
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      int port = EmbeddedRedis.freePort();
      assertTrue(port < low, port + " is inside the ephemeral range starting at " + low);
      assertTrue(seen.add(port), "handed out twice: " + port);
      try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
        assertEquals(port, s.getLocalPort());
      }
    }
  }

  @Test
  void aClusterNodesBusPortLiesBelowTheRangeToo() throws IOException {
    int port = LoopbackPorts.free(10_000);
    int low = LoopbackPorts.ephemeralLow();
    assertTrue(port + 10_000 < low, (port + 10_000) + " is inside the ephemeral range starting at " + low);
    try (ServerSocket s = new ServerSocket(port + 10_000, 1, InetAddress.getLoopbackAddress())) {
      assertEquals(port + 10_000, s.getLocalPort());
    }
  }

  @Test
  void withNoRoomBelowTheRangeTheKernelChooses() throws IOException {
    int port = LoopbackPorts.free(0, 10_500);
    assertTrue(port > 0 && port <= 65_535, "a port: " + port);
  }
}
