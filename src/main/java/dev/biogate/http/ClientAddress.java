package dev.biogate.http;

import io.netty.util.NetUtil;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.SocketAddressImpl;

import java.net.InetAddress;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who the client is, the way nginx's realip module with {@code real_ip_recursive on} decides it. The connection's
 * peer is the client unless it is a trusted proxy (a configured CIDR); then every {@code X-Forwarded-For} line, in
 * order, forms one list of hops, walked from the right: trusted proxies are skipped and the first untrusted hop is
 * the client. When every hop is trusted, the left-most is; a hop that is not an IP address stops the walk at the
 * last address believed. Addresses are compared as bytes (IPv4-mapped IPv6 as IPv4) and never resolved by DNS.
 */
public final class ClientAddress {

  /** At most this many hops are examined, right to left (a proxy chain is short; the header is client-supplied). */
  static final int MAX_HOPS = 32;

  private static final Map<List<String>, ClientAddress> SHARED = new ConcurrentHashMap<>();

  /**
   * The last request each thread resolved. A redirect asks three times (edge limit, redirect limit, click
   * fingerprint); the request's header map identifies the request, so each later ask is one comparison instead of a
   * parse of the peer and every forwarded hop.
   */
  private static final ThreadLocal<Resolved> LAST = ThreadLocal.withInitial(Resolved::new);

  private final List<Cidr> trusted;

  /** The one instance for this list of trusted proxies: everything that shares it shares the per-request memo. */
  public static ClientAddress trusting(List<String> trustedProxies) {
    return SHARED.computeIfAbsent(List.copyOf(trustedProxies), ClientAddress::new);
  }

  /** {@code trustedProxies}: CIDRs ({@code 10.0.0.0/8}, {@code fd00::/8}) or single addresses. */
  public ClientAddress(List<String> trustedProxies) {
    List<Cidr> cidrs = new ArrayList<>();
    for (String t : trustedProxies) {
      cidrs.add(Cidr.parse(t));
    }
    this.trusted = List.copyOf(cidrs);
  }

  /**
   * The client's address as bytes (4 or 16), or {@code null} when the connection has no IP peer. Callers must not
   * modify the array: it is the memo's.
   */
  public byte[] of(HttpServerRequest req) {
    return resolved(req).ip;
  }

  /**
   * The address a limit or a click fingerprint counts the client by: an IPv4 address itself, an IPv6 address's /64
   * (8 bytes). One subscriber is handed a whole /64 and may pick any address in it per request; keyed by the full
   * address, it would get a fresh bucket each time. {@code null} when the connection has no IP peer; callers must not
   * modify the array.
   */
  public byte[] key(HttpServerRequest req) {
    Resolved r = resolved(req);
    if (r.key == null && r.ip != null) {
      r.key = r.ip.length == 16 ? java.util.Arrays.copyOf(r.ip, 8) : r.ip;
    }
    return r.key;
  }

  /** {@link #key} as text: the IPv4 address, or the IPv6 prefix as {@code 2001:db8:1:2::/64}; or {@code null}. */
  public String keyText(HttpServerRequest req) {
    Resolved r = resolved(req);
    if (r.keyText == null && r.ip != null) {
      r.keyText = keyText(r.ip);
    }
    return r.keyText;
  }

  /**
   * The key {@code peer} itself (no forwarded address) is counted by, as text: the IPv4 address, or the IPv6 /64 (one
   * subscriber's allocation: counting each address let it rotate through them); {@code "unknown"} when it has none.
   */
  public static String peerKey(SocketAddress peer) {
    byte[] ip = peer(peer);
    return ip == null ? "unknown" : keyText(ip);
  }

  /** The text of the key an address is counted by (see {@link #key}). */
  static String keyText(byte[] ip) {
    if (ip.length == 4) {
      return NetUtil.bytesToIpAddress(ip);
    }
    byte[] prefix = java.util.Arrays.copyOf(ip, 16);
    java.util.Arrays.fill(prefix, 8, 16, (byte) 0);
    return NetUtil.bytesToIpAddress(prefix) + "/64";
  }

  private Resolved resolved(HttpServerRequest req) {
    MultiMap headers = req.headers();
    Resolved r = LAST.get();
    if (r.by != this || r.headers != headers) {
      r.by = this;
      r.headers = headers;
      r.ip = resolve(req);
      r.key = null;
      r.keyText = null;
    }
    return r;
  }

  private byte[] resolve(HttpServerRequest req) {
    byte[] ip = peer(req.remoteAddress());
    if (ip == null || !trusted(ip)) {
      return ip;
    }
    List<String> lines = req.headers().getAll("X-Forwarded-For");
    int examined = 0;
    for (int l = lines.size() - 1; l >= 0; l--) {
      String line = lines.get(l);
      int end = line.length();
      while (end >= 0) {
        int comma = line.lastIndexOf(',', end - 1);
        byte[] hop = parse(line.substring(comma + 1, end).trim());
        if (hop == null || ++examined > MAX_HOPS) {
          return ip;
        }
        ip = hop;
        if (!trusted(hop)) {
          return hop;
        }
        end = comma;
      }
    }
    return ip;
  }

  /**
   * The peer's address as bytes: from the socket address itself where Vert.x exposes it (no text form built and
   * parsed back on every request), else from its text.
   */
  static byte[] peer(SocketAddress peer) {
    if (peer instanceof SocketAddressImpl) {
      InetAddress a = ((SocketAddressImpl) peer).ipAddress();
      if (a != null) {
        return unmapped(a.getAddress());
      }
    }
    return peer == null || peer.hostAddress() == null ? null : parse(peer.hostAddress());
  }

  public static boolean loopback(byte[] ip) {
    if (ip.length == 4) {
      return ip[0] == 127;
    }
    for (int i = 0; i < 15; i++) {
      if (ip[i] != 0) {
        return false;
      }
    }
    return ip[15] == 1;
  }

  /** True when {@code ip} is one of the trusted proxies. */
  boolean trusted(byte[] ip) {
    for (Cidr c : trusted) {
      if (c.contains(ip)) {
        return true;
      }
    }
    return false;
  }

  /**
   * An IP literal as 4 or 16 bytes (IPv4-mapped IPv6 as 4), or {@code null}; never a DNS lookup. Takes the forms
   * proxies write into {@code X-Forwarded-For}: a port after an IPv4 address ({@code 198.51.100.1:5555}) or after a
   * bracketed IPv6 one ({@code [2001:db8::1]:443}), and IPv6 ending in a dotted IPv4 address (NAT64's
   * {@code 64:ff9b::198.18.0.1}). The port is dropped: it changes with every connection of one client.
   */
  static byte[] parse(String s) {
    if (s.isEmpty() || s.length() > 53) { // "[" + 45 + "]:" + 5 digits
      return null;
    }
    String host = s;
    if (s.charAt(0) == '[') {
      int close = s.indexOf(']');
      if (close < 0 || (close != s.length() - 1 && !port(s, close + 1))) {
        return null;
      }
      host = s.substring(1, close);
    } else {
      int colon = s.indexOf(':');
      if (colon >= 0 && colon == s.lastIndexOf(':') && s.indexOf('.') >= 0) {
        if (!port(s, colon)) {
          return null;
        }
        host = s.substring(0, colon);
      }
    }
    if (host.isEmpty() || host.length() > 45) {
      return null;
    }
    byte[] b = NetUtil.createByteArrayFromIpAddressString(host);
    if (b == null && host.indexOf(':') >= 0 && host.indexOf('.') >= 0) {
      b = embeddedIpv4(host);
    }
    return b == null ? null : unmapped(b);
  }

  /** Whether {@code s} has, from {@code at} to its end, a colon and a port number (1-5 digits, at most 65535). */
  private static boolean port(String s, int at) {
    int digits = s.length() - at - 1;
    if (s.charAt(at) != ':' || digits < 1 || digits > 5) {
      return false;
    }
    int port = 0;
    for (int i = at + 1; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
      port = port * 10 + (c - '0');
    }
    return port <= 65_535;
  }

  /** IPv6 text whose last 32 bits are a dotted IPv4 address (RFC 4291 section 2.2, form 3), or {@code null}. */
  private static byte[] embeddedIpv4(String host) {
    int last = host.lastIndexOf(':');
    byte[] v4 = NetUtil.createByteArrayFromIpAddressString(host.substring(last + 1));
    if (v4 == null || v4.length != 4) {
      return null;
    }
    String hex = Integer.toHexString((v4[0] & 0xff) << 8 | (v4[1] & 0xff)) + ":" + Integer.toHexString((v4[2] & 0xff) << 8 | (v4[3] & 0xff));
    byte[] b = NetUtil.createByteArrayFromIpAddressString(host.substring(0, last + 1) + hex);
    return b != null && b.length == 16 ? b : null;
  }

  /** An IPv4-mapped IPv6 address as the 4 bytes of its IPv4 address; any other address as it is. */
  private static byte[] unmapped(byte[] b) {
    return b.length == 16 && isMappedV4(b) ? new byte[] {b[12], b[13], b[14], b[15]} : b;
  }

  private static boolean isMappedV4(byte[] b) {
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
  }

  /** One thread's last answer: for which instance and which request's headers. */
  private static final class Resolved {
    ClientAddress by;
    MultiMap headers;
    byte[] ip;
    byte[] key;
    String keyText;
  }

  /** One trusted range. */
  record Cidr(byte[] network, int bits) {

    static Cidr parse(String text) {
      String t = text.trim();
      int slash = t.indexOf('/');
      byte[] addr = ClientAddress.parse(slash < 0 ? t : t.substring(0, slash));
      if (addr == null) {
        throw new IllegalArgumentException("'" + text + "' is not an IP address or CIDR");
      }
      int bits = addr.length * 8;
      if (slash >= 0) {
        try {
          bits = Integer.parseInt(t.substring(slash + 1));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("'" + text + "' has no valid prefix length");
        }
        if (addr.length == 4 && t.indexOf(':') >= 0 && bits >= 96) {
          bits -= 96; // ::ffff:10.0.0.0/104 is 10.0.0.0/8
        }
        if (bits < 0 || bits > addr.length * 8) {
          throw new IllegalArgumentException("'" + text + "' has a prefix length out of range");
        }
      }
      return new Cidr(addr, bits);
    }

    boolean contains(byte[] ip) {
      if (ip.length != network.length) {
        return false;
      }
      int full = bits / 8;
      for (int i = 0; i < full; i++) {
        if (ip[i] != network[i]) {
          return false;
        }
      }
      int rest = bits % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xff << (8 - rest)) & 0xff;
      return (ip[full] & mask) == (network[full] & mask);
    }
  }
}
