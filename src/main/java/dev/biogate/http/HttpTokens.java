package dev.biogate.http;

/**
 * Parsing of request headers: allocation-free for the ones the hot path reads ({@code Accept-Encoding},
 * {@code If-None-Match}), and the bearer credential of {@code Authorization}.
 */
public final class HttpTokens {

  private HttpTokens() {
  }

  /**
   * The answer to a request carrying {@code Authorization} on more than one line (credentials are one value, RFC 9110
   * 11.6.2): it was read from the first line, so a right token then a wrong one was let in.
   */
  public static final ApiException REPEATED_AUTHORIZATION = new ApiException(400, "duplicate_header",
    "Authorization appears more than once; it takes one value");

  /** Whether {@code name} is on more than one line of {@code headers}. */
  public static boolean repeated(io.vertx.core.MultiMap headers, CharSequence name) {
    return headers.contains(name) && headers.getAll(name).size() > 1;
  }

  /** The credential of an {@code Authorization: Bearer <credential>} header, or {@code null} when there is none. */
  public static String bearer(String authorization) {
    if (authorization == null || authorization.length() <= 7 || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String v = authorization.substring(7).trim();
    return v.isEmpty() ? null : v;
  }

  /**
   * Whether {@code Accept-Encoding} admits gzip (RFC 9110 section 12.5.3): {@code gzip} (or {@code x-gzip}, the same
   * coding, section 8.4.1.3) listed with a q-value above
   * zero (and nowhere with zero), or, when gzip is not listed, {@code *} with one. A q-value that is not one (outside 0 to 1, more than three
   * decimals, not a number) makes its element unusable.
   */
  public static boolean acceptsGzip(String header) {
    if (header == null) {
      return false;
    }
    int gzipQ = -1;
    int anyQ = -1;
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
      if (e - s == 4 && header.regionMatches(true, s, "gzip", 0, 4)
        || e - s == 6 && header.regionMatches(true, s, "x-gzip", 0, 6)) {
        // One coding under two names (or listed twice): a refusal under either is a refusal.
        int q = qThousandths(header, tokenEnd, end);
        gzipQ = gzipQ < 0 ? q : Math.min(gzipQ, q);
      } else if (e - s == 1 && header.charAt(s) == '*') {
        anyQ = Math.max(anyQ, qThousandths(header, tokenEnd, end));
      }
      i = end + 1;
    }
    return gzipQ >= 0 ? gzipQ > 0 : anyQ > 0;
  }

  /**
   * The q-value of the parameters in {@code [from, end)} in thousandths: 1000 when there is none, 0 when it is not a
   * valid qvalue ({@code 0[.ddd]} or {@code 1[.000]}).
   */
  private static int qThousandths(String h, int from, int end) {
    int at = from;
    while (at < end) {
      int p = skipSpace(h, at + 1, end); // past the ';'
      int next = h.indexOf(';', p);
      int paramEnd = next >= 0 && next < end ? next : end;
      int e = trimEnd(h, p, paramEnd);
      if (e - p >= 2 && (h.charAt(p) == 'q' || h.charAt(p) == 'Q') && h.charAt(p + 1) == '=') {
        return qvalue(h, p + 2, e);
      }
      at = paramEnd;
    }
    return 1000;
  }

  private static int qvalue(String h, int s, int e) {
    if (s >= e || (h.charAt(s) != '0' && h.charAt(s) != '1') || e - s > 5 || (e - s > 1 && h.charAt(s + 1) != '.')) {
      return 0;
    }
    int v = (h.charAt(s) - '0') * 1000;
    int scale = 100;
    for (int k = s + 2; k < e; k++, scale /= 10) {
      char c = h.charAt(k);
      if (c < '0' || c > '9') {
        return 0;
      }
      v += (c - '0') * scale;
    }
    return v > 1000 ? 0 : v;
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
