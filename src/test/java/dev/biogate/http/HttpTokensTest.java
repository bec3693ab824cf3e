package dev.biogate.http;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HttpTokensTest {

  @Test
  void acceptsGzipOnlyWhenOfferedWithNonZeroQuality() {
    assertTrue(HttpTokens.acceptsGzip("gzip"));
    assertTrue(HttpTokens.acceptsGzip("gzip, deflate, br"));
    assertTrue(HttpTokens.acceptsGzip("br;q=1.0, GZIP;q=0.5"));
    assertTrue(HttpTokens.acceptsGzip("*"));
    assertFalse(HttpTokens.acceptsGzip(null));
    assertFalse(HttpTokens.acceptsGzip("identity"));
    assertFalse(HttpTokens.acceptsGzip("gzip;q=0"));
    assertFalse(HttpTokens.acceptsGzip("gzip;q=0.000, br"));
    assertFalse(HttpTokens.acceptsGzip("x-gzip2"));
    // RFC 9110 8.4.1.3: x-gzip is gzip.
    assertTrue(HttpTokens.acceptsGzip("x-gzip"));
    assertTrue(HttpTokens.acceptsGzip("identity, X-GZIP;q=0.5"));
    assertFalse(HttpTokens.acceptsGzip("x-gzip;q=0"));
    // One coding under two names: a refusal under either is a refusal.
    assertFalse(HttpTokens.acceptsGzip("gzip;q=0, x-gzip"));
    assertFalse(HttpTokens.acceptsGzip("x-gzip, gzip;q=0"));
    assertTrue(HttpTokens.acceptsGzip("gzip;q=0.5, x-gzip"));
    // RFC 9110 12.5.3: "*" stands only for codings not listed, so a refused gzip stays refused.
    assertFalse(HttpTokens.acceptsGzip("gzip;q=0, *"));
    assertFalse(HttpTokens.acceptsGzip("*, gzip;q=0"));
    assertTrue(HttpTokens.acceptsGzip("identity;q=0, *;q=0.1"));
    assertFalse(HttpTokens.acceptsGzip("*;q=0"));
    // Not qvalues: the element is unusable.
    assertFalse(HttpTokens.acceptsGzip("gzip;q=-1"));
    assertFalse(HttpTokens.acceptsGzip("gzip;q=1.0000001"));
    assertFalse(HttpTokens.acceptsGzip("gzip;q=2"));
    assertFalse(HttpTokens.acceptsGzip("gzip;q=abc"));
    assertTrue(HttpTokens.acceptsGzip("gzip;q=1.000"));
    assertTrue(HttpTokens.acceptsGzip("gzip; q=0.001"));
    assertTrue(HttpTokens.acceptsGzip("gzip;level=9;q=0.5"));
  }

  @Test
  void ifNoneMatchUsesWeakComparisonOverLists() {
    String etag = "\"abc\"";
    assertTrue(HttpTokens.noneMatchHits("\"abc\"", etag));
    assertTrue(HttpTokens.noneMatchHits("W/\"abc\"", etag));
    assertTrue(HttpTokens.noneMatchHits("\"x\", \"abc\"", etag));
    assertTrue(HttpTokens.noneMatchHits("*", etag));
    assertFalse(HttpTokens.noneMatchHits("\"abcd\"", etag));
    assertFalse(HttpTokens.noneMatchHits("abc", etag));
    assertFalse(HttpTokens.noneMatchHits("", etag));
  }

  @Test
  void usernamesAreValidatedAndLowerCased() {
    assertEquals("alice", Usernames.normalize("Alice"));
    assertEquals("a.b_c-1", Usernames.normalize("a.b_c-1"));
    assertNull(Usernames.normalize(".."));
    assertNull(Usernames.normalize("..."));
    // The refusal says why "..." is not a username although each of its characters may be in one.
    assertTrue(Usernames.INVALID.getMessage().contains("not dots alone"), Usernames.INVALID.getMessage());
    assertNull(Usernames.normalize(""));
    assertNull(Usernames.normalize("a%2fb"));
    assertNull(Usernames.normalize("x".repeat(65)));
    assertNull(Usernames.normalize("ali ce"));
  }
}
