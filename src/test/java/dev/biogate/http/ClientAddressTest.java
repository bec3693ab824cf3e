package dev.biogate.http;

import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The connection's peer as address bytes, read from the socket address without a text round trip: IPv4 as 4 bytes,
 * IPv6 as 16, IPv4-mapped IPv6 as the IPv4 address it carries (so a mapped client shares its IPv4 bucket), a Unix
 * domain socket as no address at all.
 */
class ClientAddressTest {

  private static SocketAddress inet(String literal) throws Exception {
    return SocketAddress.inetSocketAddress(new InetSocketAddress(InetAddress.getByName(literal), 40_000));
  }

  @Test
  void peersAreReadAsBytes() throws Exception {
    assertArrayEquals(new byte[] {(byte) 203, 0, 113, 7}, ClientAddress.peer(inet("203.0.113.7")));
    byte[] v6 = ClientAddress.peer(inet("2001:db8::1"));
    assertArrayEquals(ClientAddress.parse("2001:db8::1"), v6);
    assertTrue(v6.length == 16);
    assertArrayEquals(new byte[] {(byte) 198, 51, 100, 9}, ClientAddress.peer(inet("::ffff:198.51.100.9")));
    assertTrue(ClientAddress.loopback(ClientAddress.peer(inet("::1"))));
    assertTrue(ClientAddress.loopback(ClientAddress.peer(inet("127.0.0.1"))));
  }

  @Test
  void aPeerGivenAsTextIsParsedAndADomainSocketHasNoAddress() {
    assertArrayEquals(new byte[] {10, 1, 2, 3}, ClientAddress.peer(SocketAddress.inetSocketAddress(80, "10.1.2.3")));
    assertNull(ClientAddress.peer(SocketAddress.domainSocketAddress("/tmp/biogate.sock")));
    assertNull(ClientAddress.peer(null));
  }

  @Test
  void forwardedHopsAreReadWithAPortAndWithAnEmbeddedIpv4() {
    // Some proxies write the client's port (Azure Application Gateway: "IP:port"), or the bracketed IPv6 form with
    // one; NAT64 gateways write the RFC 6052 form. Unread, such a hop made every client the trusted proxy itself.
    assertArrayEquals(new byte[] {(byte) 198, 51, 100, 1}, ClientAddress.parse("198.51.100.1:5555"));
    assertArrayEquals(ClientAddress.parse("2001:db8:9::1"), ClientAddress.parse("[2001:db8:9::1]:443"));
    assertArrayEquals(ClientAddress.parse("2001:db8:9::1"), ClientAddress.parse("[2001:db8:9::1]"));
    assertArrayEquals(ClientAddress.parse("64:ff9b::c612:1"), ClientAddress.parse("64:ff9b::198.18.0.1"));
    assertArrayEquals(ClientAddress.parse("2001:db8::c633:6401"), ClientAddress.parse("2001:db8::198.51.100.1"));
    assertArrayEquals(new byte[] {(byte) 198, 51, 100, 9}, ClientAddress.parse("::ffff:198.51.100.9"));
    for (String bad : new String[] {"unknown", "198.51.100.1:", "198.51.100.1:x", "198.51.100.1:99999", "[2001:db8::1]:",
      "[2001:db8::1", "2001:db8::1]:80", "1.2.3.4:5:6", "::1.2.3", "::1.2.3.4.5", "::256.1.1.1", "_", ""}) {
      assertNull(ClientAddress.parse(bad), bad);
    }
  }

  /**
   * The admin API's wrong-token lockout counts by this key. It counted each address, where every other per-client limit
   * counts an IPv6 /64: one subscriber could rotate through its prefix for unlimited guesses.
   */
  @Test
  void aPeersKeyIsItsIpv4AddressOrItsIpv6Prefix() {
    org.junit.jupiter.api.Assertions.assertEquals(ClientAddress.peerKey(SocketAddress.inetSocketAddress(1, "2001:db8:1:2::1")),
      ClientAddress.peerKey(SocketAddress.inetSocketAddress(2, "2001:db8:1:2:ffff::9")));
    org.junit.jupiter.api.Assertions.assertEquals("2001:db8:1:2::/64",
      ClientAddress.peerKey(SocketAddress.inetSocketAddress(1, "2001:db8:1:2::1")));
    org.junit.jupiter.api.Assertions.assertEquals("192.0.2.7", ClientAddress.peerKey(SocketAddress.inetSocketAddress(1, "192.0.2.7")));
    org.junit.jupiter.api.Assertions.assertEquals("unknown", ClientAddress.peerKey(null));
  }
}
