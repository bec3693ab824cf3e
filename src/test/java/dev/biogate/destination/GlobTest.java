package dev.biogate.destination;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GlobTest {

  @Test
  void starMatchesAnyRunAndEverythingElseMatchesItself() {
    assertTrue(new Glob("linkme.*").matches("linkme.link.click"));
    assertTrue(new Glob("*.analytics.milestone").matches("linktree.analytics.milestone"));
    assertTrue(new Glob("linkme.link.c*").matches("linkme.link.claim"));
    assertTrue(new Glob("*").matches(""));
    assertTrue(new Glob("a*b*c").matches("abc"));
    assertTrue(new Glob("a*b*c").matches("axxbyyc"));
    assertFalse(new Glob("a*b*c").matches("axxbyy"));
    assertFalse(new Glob("linkme.*").matches("linktree.link.created"));
    assertFalse(new Glob("linkme.link.click").matches("linkme.link.clicks"));
    assertFalse(new Glob("linkme.link.click").matches("linkme.link.clic"));
    assertTrue(new Glob("l?nk").matches("l?nk"), "no character other than * is special");
    assertFalse(new Glob("l?nk").matches("link"));
    assertFalse(new Glob("l.nk").matches("link"), "a dot is a dot, not a regex wildcard");
  }

  @Test
  void aPathologicalPatternOnALongTypeStillAnswersCorrectly() {
    String text = "a".repeat(20_000);
    assertFalse(new Glob("*a*a*a*a*a*a*a*a*b").matches(text));
    assertTrue(new Glob("*a*a*a*a*a*a*a*a*a").matches(text));
  }
}
