package dev.biogate.http;

/**
 * Parsing of request headers: allocation-free for the ones the hot path reads ({@code Accept-Encoding},
 * {@code If-None-Match}), and the bearer credential of {@code Authorization}.
 */
public final class HttpTokens {

  private HttpTokens() {
  }

  /** The credential of an {@code Authorization: Bearer <credential>} header, or {@code null} when there is none. */
  public static String bearer(String authorization) {
    if (authorization == null || authorization.length() <= 7 || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String v = authorization.substring(7).trim();
    return v.isEmpty() ? null : v;
  }

  /** Whether {@code Accept-Encoding} admits gzip: a {@code gzip} or {@code *} token whose q-value is not zero. */
  public static boolean acceptsGzip(String header) {
    if (header == null) {
      return false;
    }
    int n = header.length();
    int i = 0;
    while (i < n) {
      int end = header.indexOf(',', i);
      if (end < 0) {
        end = n;
      }
      int s = skipSpace(header, i, end);
      int semi = header.indexOf(';', s);
      int tokenEnd = semi >= 0 && semi < end ? semi : end;
      int e = trimEnd(header, s, tokenEnd);
      boolean gzip = e - s == 4 && header.regionMatches(true, s, "gzip", 0, 4);
      boolean any = e - s == 1 && header.charAt(s) == '*';
      if ((gzip || any) && !qIsZero(header, tokenEnd, end)) {
        return true;
      }
      i = end + 1;
    }
    return false;
  }

  private static boolean qIsZero(String h, int from, int end) {
    int q = h.indexOf("q=", from);
    if (q < 0 || q >= end) {
      q = h.indexOf("Q=", from);
      if (q < 0 || q >= end) {
        return false;
      }
    }
    int v = q + 2;
    int e = trimEnd(h, v, end);
    boolean sawNonZero = false;
    for (int k = v; k < e; k++) {
      char c = h.charAt(k);
      if (c >= '1' && c <= '9') {
        sawNonZero = true;
      }
    }
    return !sawNonZero;
  }

  /** RFC 9110 weak comparison of {@code If-None-Match} against our (strong, quoted) ETag. */
  public static boolean noneMatchHits(String header, CharSequence etag) {
    if (header == null || etag == null) {
      return false;
    }
    int n = header.length();
    int i = 0;
    while (i < n) {
      int end = header.indexOf(',', i);
      if (end < 0) {
        end = n;
      }
      int s = skipSpace(header, i, end);
      int e = trimEnd(header, s, end);
      if (e - s == 1 && header.charAt(s) == '*') {
        return true;
      }
      if (e - s > 2 && header.startsWith("W/", s)) {
        s += 2;
      }
      if (e - s == etag.length() && regionEquals(header, s, etag)) {
        return true;
      }
      i = end + 1;
    }
    return false;
  }

  private static boolean regionEquals(String h, int from, CharSequence etag) {
    for (int k = 0; k < etag.length(); k++) {
      if (h.charAt(from + k) != etag.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  private static int skipSpace(String h, int i, int end) {
    while (i < end && (h.charAt(i) == ' ' || h.charAt(i) == '\t')) {
      i++;
    }
    return i;
  }

  private static int trimEnd(String h, int s, int e) {
    while (e > s && (h.charAt(e - 1) == ' ' || h.charAt(e - 1) == '\t')) {
      e--;
    }
    return e;
  }
}
