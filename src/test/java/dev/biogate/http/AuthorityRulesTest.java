package dev.biogate.http;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a {@code Host} value or an absolute-form target's authority may be: the raw-socket pass found {@code [zz]} and
 * {@code [fe80::1%eth0]} accepted as hosts (the router's parser takes any bracketed text), and absolute-form targets
 * not checked at all ({@code http://u:p@evil.example/}, {@code ftp://...}, a port of 99999 all answered 200).
 */
class AuthorityRulesTest {

  @Test
  void anIpLiteralIsAnIpv6AddressOrAnIpvFuture() {
    for (String ok : List.of("::1", "::", "1:2:3:4:5:6:7:8", "fe80::1", "::ffff:192.0.2.1", "2001:db8::8:800:200c:417a",
      "fe80::1%25eth0", "1::", "v1.x", "V7.a:b")) {
      assertTrue(StrictHttpDecoder.FramingRules.ipLiteral(ok), ok);
    }
    for (String bad : List.of("zz", "", ":", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "fe80::1%eth0",
      "fe80::1%25", "::1.2.3", "::256.1.1.1", "::01.1.1.1", "1.2.3.4::", "v.x", "v1.", "vg.x", "::g")) {
      assertFalse(StrictHttpDecoder.FramingRules.ipLiteral(bad), bad);
    }
  }

  @Test
  void anAbsoluteFormTargetIsAnHttpUriWhoseAuthorityNamesAHost() {
    for (String ok : List.of("http://example.com/health/live", "HTTPS://example.com:443/x?y", "http://[::1]:8080/a",
      "http://example.com", "http://example.com?q")) {
      assertTrue(StrictHttpDecoder.absoluteForm(ok), ok);
    }
    for (String bad : List.of("http://u:p@evil.example/x", "http://evil.example:99999/x", "http://[::1/x", "ftp://evil.example/x",
      "http:///health/live", "http://:80/x", "http://[zz]/x", "mailto:a@b", "example.com/x")) {
      assertFalse(StrictHttpDecoder.absoluteForm(bad), bad);
    }
  }
}
