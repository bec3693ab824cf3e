package dev.biogate.destination;

/**
 * Event filters such as {@code linkme.*} or {@code *.analytics.milestone}: {@code *} matches any run of characters
 * (dots included), everything else matches itself. Matched with the two-pointer wildcard algorithm: no regex, no
 * recursion, at most {@code pattern.length() * text.length()} steps, so sender-controlled event types can never make
 * a match expensive.
 */
public final class Glob {

  private final String pattern;

  public Glob(String pattern) {
    this.pattern = pattern;
  }

  public boolean matches(String text) {
    int p = 0;
    int t = 0;
    int star = -1;
    int resume = 0;
    while (t < text.length()) {
      if (p < pattern.length() && pattern.charAt(p) == '*') {
        star = p++;
        resume = t;
      } else if (p < pattern.length() && pattern.charAt(p) == text.charAt(t)) {
        p++;
        t++;
      } else if (star >= 0) {
        p = star + 1;
        t = ++resume;
      } else {
        return false;
      }
    }
    while (p < pattern.length() && pattern.charAt(p) == '*') {
      p++;
    }
    return p == pattern.length();
  }

  @Override
  public String toString() {
    return pattern;
  }
}
