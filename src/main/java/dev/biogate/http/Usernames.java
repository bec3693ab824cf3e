package dev.biogate.http;

/**
 * The username grammar the gateway accepts: 1–64 of {@code [A-Za-z0-9._-]}, compared case-insensitively, so the
 * cache key is the lower-case form. Anything else (percent-encoding, slashes, dots-only) is rejected before it can
 * reach a cache key, a Redis key or an upstream URL.
 */
public final class Usernames {

  public static final int MAX_LENGTH = 64;

  /** The answer to a username outside the grammar: {@code 400 invalid_username}. */
  public static final ApiException INVALID = new ApiException(400, "invalid_username", "usernames are 1-64 of [A-Za-z0-9._-], not dots alone");

  private Usernames() {
  }

  /** The normalised username in {@code s[from, to)}, or {@code null} when it is not a valid username. */
  public static String normalize(String s, int from, int to) {
    int len = to - from;
    if (len < 1 || len > MAX_LENGTH) {
      return null;
    }
    boolean upper = false;
    boolean onlyDots = true;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        upper = true;
      } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
        return null;
      }
      if (c != '.') {
        onlyDots = false;
      }
    }
    if (onlyDots) {
      return null;
    }
    String u = s.substring(from, to);
    return upper ? u.toLowerCase(java.util.Locale.ROOT) : u;
  }

  public static String normalize(String s) {
    return s == null ? null : normalize(s, 0, s.length());
  }

  /** The normalised username {@code s}; throws {@link #INVALID} when it is not one. */
  public static String required(String s) {
    String u = normalize(s);
    if (u == null) {
      throw INVALID;
    }
    return u;
  }
}
