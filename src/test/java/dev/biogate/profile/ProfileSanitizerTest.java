package dev.biogate.profile;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProfileSanitizerTest {

  @Test
  void stripsMarkupStrayBracketsAndInvisibleCharacters() {
    assertEquals("alert(1)Hi there", ProfileSanitizer.text("<script>alert(1)</script>Hi\u0007 there", 100));
    assertEquals("Shop", ProfileSanitizer.text("<b>Shop</b>", 100));
    assertEquals("abd", ProfileSanitizer.text("a>b<c>d", 100));
    assertEquals("ab", ProfileSanitizer.text("a<b", 100));
    assertEquals("line\nnext\ttab", ProfileSanitizer.text("  line\nnext\ttab\u200b\u0000  ", 100));
    assertEquals("emoji \uD83D\uDE00", ProfileSanitizer.text("emoji \uD83D\uDE00", 100));
  }

  @Test
  void boundsTheOutputWithoutSplittingACharacter() {
    assertEquals("abc", ProfileSanitizer.text("abcdef", 3));
    assertEquals("ab", ProfileSanitizer.text("ab\uD83D\uDE00", 3));
    assertEquals("ab", ProfileSanitizer.text("ab   cd", 4));
  }

  /**
   * A run of 100,000 '<' is one linear pass (every character is visited once: no regex, whose {@code <[^>]*>} is
   * quadratic over such a run). Its speed is a benchmark's matter, not a timed assertion's; here, what it yields.
   */
  @Test
  void aHundredThousandOpenBracketsYieldNothingOfThem() {
    String hostile = "<".repeat(100_000);
    String title = "x" + "<".repeat(100_000) + "tail";
    assertEquals("", ProfileSanitizer.text(hostile, ProfileSanitizer.MAX_TITLE));
    assertEquals("", ProfileSanitizer.text(hostile, ProfileSanitizer.MAX_BIO));
    assertEquals("x", ProfileSanitizer.text(title, ProfileSanitizer.MAX_BIO));
  }

  /** Found by an attack pass: a lone surrogate was served back ({@code \uD800}), and a link to port 99999 followed. */
  /**
   * A link to an internationalised domain name is kept, its host in its ASCII (punycode) form: it was dropped as a link
   * without a host, since {@code java.net.URI} reads no host from non-ASCII letters. What makes a link unsafe still
   * drops it, whatever its letters.
   */
  @Test
  void linksToInternationalisedDomainNamesAreKeptInTheirAsciiForm() {
    assertEquals("https://xn--exmple-cua.com/\u00fc", ProfileSanitizer.linkUrl("https://ex\u00e4mple.com/\u00fc"));
    assertEquals("https://xn--bcher-kva.example:8443/a?q=1#f", ProfileSanitizer.linkUrl("https://b\u00fccher.example:8443/a?q=1#f"));
    assertEquals("http://xn--r8jz45g.xn--zckzah", ProfileSanitizer.linkUrl("http://\u4f8b\u3048.\u30c6\u30b9\u30c8"));
    assertNull(ProfileSanitizer.linkUrl("https://b\u00fccher.example@evil.example/"), "credentials, whatever the letters");
    assertNull(ProfileSanitizer.linkUrl("https://b\u00fccher.example:99999/"));
    assertNull(ProfileSanitizer.linkUrl("https://b\u00fccher_example.com/"), "not a host name once in ASCII");
    assertNull(ProfileSanitizer.linkUrl("javascript://b\u00fccher.example/%0aalert(1)"));
    // A port that is not ASCII digits: the authority stayed non-ASCII and the check recursed until the stack ran out.
    for (String url : new String[] {"https://a.example:1\u00fc/", "https://\u00fc.com:\uff11\uff12/", "https://\u00fc.com:\u0663/",
      "https://\u00fc.com:8080\u00fc/"}) {
      assertNull(ProfileSanitizer.linkUrl(url), url);
      assertNull(ProfileSanitizer.imageUrl(url), url);
    }
    // Names the 2003 rules map to another name than browsers' rules do (sharp s, final sigma): another registrant's
    // domain. Dropped rather than sent there.
    assertNull(ProfileSanitizer.linkUrl("https://fa\u00df.de/"));
    assertNull(ProfileSanitizer.linkUrl("https://\u03b2\u03cc\u03bb\u03bf\u03c2.com/"));
    assertEquals("https://xn--bcher-kva.example/", ProfileSanitizer.linkUrl("https://B\u00fccher.example/"), "letter case is no mapping");
  }

  @Test
  void dropsUnpairedSurrogatesAndLinksToPortsThatCannotExist() {
    assertEquals("AB", ProfileSanitizer.text("A\uD800B", 100));
    assertEquals("AB", ProfileSanitizer.text("A\uDC00B", 100));
    assertEquals("A\uD83D\uDE00B", ProfileSanitizer.text("A\uD83D\uDE00B", 100), "a pair is one character");
    assertNull(ProfileSanitizer.linkUrl("https://example.com:99999/"));
    assertEquals("https://example.com:8443/", ProfileSanitizer.linkUrl("https://example.com:8443/"));
  }

  /** The same attack pass: lone surrogates in URLs and link ids were kept (and one broke every redirect of a profile). */
  @Test
  void urlsAndLinkIdsWithALoneSurrogateAreRefusedAndPairsKept() {
    for (String url : new String[] {"https://example.com/\uD800", "https://example.com/\uDC00x", "https://e\uD800.example/",
      "https://example.com/\uDE00\uD83D"}) {
      assertNull(ProfileSanitizer.linkUrl(url), url);
      assertNull(ProfileSanitizer.imageUrl(url), url);
    }
    assertEquals("https://example.com/\uD83D\uDE00", ProfileSanitizer.linkUrl("https://example.com/\uD83D\uDE00"));
    assertFalse(ProfileSanitizer.followableLinkId("l3\uD800"));
    assertFalse(ProfileSanitizer.followableLinkId("\uDC00"));
    assertTrue(ProfileSanitizer.followableLinkId("smile\uD83D\uDE00"));
  }
  /**
   * An attack pass: links whose id is {@code .} or {@code ..} were served, but no path names them (a redirect's path is
   * normalised, {@code %2e%2e} included, and the segment is gone): every click on them was a 404, never counted.
   */
  @Test
  void dotSegmentLinkIdsAreNotServed() {
    assertFalse(ProfileSanitizer.followableLinkId("."));
    assertFalse(ProfileSanitizer.followableLinkId(".."));
    assertTrue(ProfileSanitizer.followableLinkId("..."), "three dots are a plain segment");
    assertTrue(ProfileSanitizer.followableLinkId(".a"));
  }
}
