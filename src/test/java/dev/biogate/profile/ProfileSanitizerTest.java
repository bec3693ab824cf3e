package dev.biogate.profile;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

  /** The explicit algorithmic bound: a run of 100,000 '<' is one linear pass, not a quadratic regex. */
  @Test
  void sanitisesHundredThousandOpenBracketsInUnderFiftyMilliseconds() {
    String hostile = "<".repeat(100_000);
    String title = "x" + "<".repeat(100_000) + "tail";
    ProfileSanitizer.text(hostile, ProfileSanitizer.MAX_TITLE); // class loading and JIT warm-up are not the algorithm
    long start = System.nanoTime();
    String a = ProfileSanitizer.text(hostile, ProfileSanitizer.MAX_TITLE);
    String b = ProfileSanitizer.text(hostile, ProfileSanitizer.MAX_BIO);
    String c = ProfileSanitizer.text(title, ProfileSanitizer.MAX_BIO);
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertEquals("", a);
    assertEquals("", b);
    assertEquals("x", c);
    assertTrue(ms < 50, "100,000 '<' took " + ms + " ms");
  }
}
