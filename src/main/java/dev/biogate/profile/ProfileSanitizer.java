package dev.biogate.profile;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * Makes user-generated profile content safe to render: text loses markup and control characters and is bounded in
 * length; links keep only {@code http}, {@code https} (with a host and no user info), {@code mailto} and
 * {@code tel} URLs; image URLs only {@code http(s)}. A link with any other URL ({@code javascript:}, {@code data:}, malformed, obfuscated with control
 * characters) is dropped from the profile and counted, so it never reaches a client.
 */
public final class ProfileSanitizer {

  public static final int MAX_TITLE = 300;
  public static final int MAX_BIO = 2_000;
  public static final int MAX_URL = 2_048;

  private static final Set<String> LINK_SCHEMES = Set.of("http", "https", "mailto", "tel");
  private static final Set<String> IMAGE_SCHEMES = Set.of("http", "https");
  /** Raw text beyond this many characters per output character is never looked at: bounds work on any input. */
  static final int RAW_PER_OUTPUT_CHAR = 8;

  private static final LongAdder DROPPED = new LongAdder();

  private ProfileSanitizer() {
  }

  /**
   * Plain text: tags ({@code <...>}) removed, stray angle brackets and control/format characters (but newline, tab)
   * removed, surrounding whitespace stripped, at most {@code max} characters. The input is cut to
   * {@code max * RAW_PER_OUTPUT_CHAR} characters first and read once, left to right, so the work is linear in
   * {@code max} whatever the input (no regex: {@code <[^>]*>} over a run of {@code <} is quadratic).
   */
  public static String text(String s, int max) {
    if (s == null) {
      return null;
    }
    int end = (int) Math.min(s.length(), (long) max * RAW_PER_OUTPUT_CHAR);
    int lastGt = s.lastIndexOf('>', end - 1);
    StringBuilder out = new StringBuilder(Math.min(end, max));
    int i = 0;
    while (i < end && out.length() < max) {
      int cp = s.codePointAt(i);
      int next = i + Character.charCount(cp);
      if (cp == '<') {
        // A tag runs to the next '>'; with no '>' ahead the '<' is stray. lastGt makes the lookahead O(1) when absent,
        // and a found '>' is jumped to, so every character is visited once.
        next = i < lastGt ? s.indexOf('>', i) + 1 : next;
      } else if (cp != '>' && !invisible(cp) && (out.length() > 0 || !Character.isWhitespace(cp))) {
        if (Character.charCount(cp) == 2 && out.length() + 2 > max) {
          break;
        }
        out.appendCodePoint(cp);
      }
      i = next;
    }
    int len = out.length();
    while (len > 0 && Character.isWhitespace(out.charAt(len - 1))) {
      len--;
    }
    out.setLength(len);
    return out.toString();
  }

  /** Control (Cc) and format (Cf) characters, except newline and tab, and unpaired surrogates. */
  private static boolean invisible(int cp) {
    if (cp == '\n' || cp == '\t') {
      return false;
    }
    int type = Character.getType(cp);
    // A surrogate here is unpaired (a pair is read as one code point): strict JSON consumers reject it.
    return type == Character.CONTROL || type == Character.FORMAT || type == Character.SURROGATE;
  }

  /** The longest link id served, the longest a redirect ({@code /r/{username}/{linkId}}) takes. */
  public static final int MAX_LINK_ID = 128;

  /**
   * Whether a link with this id may be served: one its redirect takes, 1-{@value #MAX_LINK_ID} characters, not blank,
   * no control character (a line feed included), not a dot segment ({@code .} or {@code ..}, which a request path's
   * normalisation removes, escaped or not). Links with other ids are dropped, on every path that writes a profile, so
   * every link a profile serves can be followed.
   */
  public static boolean followableLinkId(String id) {
    return linkId(id, MAX_LINK_ID) && !".".equals(id) && !"..".equals(id);
  }

  /**
   * Whether {@code id} is 1-{@code max} characters, not blank, with no control character and no unpaired surrogate
   * (no path can name it: its escape decodes to U+FFFD, and strict JSON consumers reject it).
   */
  public static boolean linkId(String id, int max) {
    if (id == null || id.isEmpty() || id.length() > max || id.isBlank()) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      if (Character.isISOControl(id.charAt(i))) {
        return false;
      }
    }
    return !loneSurrogate(id);
  }

  /** Whether {@code s} holds a UTF-16 surrogate that is not half of a pair. */
  public static boolean loneSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  /** The URL if a link may point there, else {@code null}. */
  public static String linkUrl(String url) {
    return url(url, LINK_SCHEMES);
  }

  /** The URL if an image may be loaded from there, else {@code null}. */
  public static String imageUrl(String url) {
    return url(url, IMAGE_SCHEMES);
  }

  private static String url(String url, Set<String> schemes) {
    if (url == null || url.isEmpty() || url.length() > MAX_URL) {
      return null;
    }
    for (int i = 0; i < url.length(); i++) {
      char c = url.charAt(i);
      if (c <= 0x20 || c == 0x7f || Character.getType(c) == Character.FORMAT) {
        return null; // whitespace or invisible characters are how "java\tscript:" slips past naive filters
      }
    }
    if (loneSurrogate(url)) {
      return null; // no URL holds one (it has no UTF-8 form to percent-encode), and strict JSON consumers reject it
    }
    try {
      URI uri = new URI(url);
      String scheme = uri.getScheme();
      if (scheme == null || !schemes.contains(scheme.toLowerCase(Locale.ROOT))) {
        return null;
      }
      boolean web = scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https");
      if (web && uri.getHost() == null && uri.getRawAuthority() != null && !ascii(uri.getRawAuthority())) {
        // An internationalised domain name: java.net.URI reads no host from its letters. Checked again in ASCII form.
        String asciiHost = asciiHost(url, scheme.length());
        return asciiHost == null ? null : url(asciiHost, schemes);
      }
      if (web && (uri.getHost() == null || uri.getHost().isEmpty() || uri.getRawUserInfo() != null)) {
        return null; // credentials in a link are how "https://bank.example@evil.example/" passes for the bank
      }
      if (uri.getPort() > 65535) {
        return null; // no such port: a link nobody can follow
      }
      if (!web && !uri.isOpaque()) {
        return null; // "mailto:" and "tel:" take no path: "mailto://evil.example/" is not an address
      }
      return url;
    } catch (URISyntaxException e) {
      return null;
    }
  }

  private static boolean ascii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code url} ({@code scheme://authority...}) with its authority's host in ASCII form (IDNA, punycode), or
   * {@code null} when the authority holds credentials or its host is no host name.
   */
  private static String asciiHost(String url, int schemeLength) {
    int start = schemeLength + 3;
    if (!url.startsWith("://", schemeLength)) {
      return null;
    }
    int end = start;
    while (end < url.length() && "/?#".indexOf(url.charAt(end)) < 0) {
      end++;
    }
    String authority = url.substring(start, end);
    if (authority.indexOf('@') >= 0) {
      return null;
    }
    int colon = authority.lastIndexOf(':');
    String host = colon < 0 ? authority : authority.substring(0, colon);
    String port = authority.substring(host.length());
    if (!ascii(port)) {
      return null; // the host alone is converted: anything else left non-ASCII stays no host (and was checked forever)
    }
    try {
      String asciiHost = java.net.IDN.toASCII(host, java.net.IDN.USE_STD3_ASCII_RULES);
      // Only a name the conversion writes as it is: the 2003 rules java.net.IDN follows map some letters (sharp s to
      // "ss", final sigma to sigma) where browsers keep them, and the two names can belong to different registrants.
      String unmapped = java.text.Normalizer.normalize(host.toLowerCase(Locale.ROOT), java.text.Normalizer.Form.NFC);
      if (asciiHost.isEmpty() || !java.net.IDN.toUnicode(asciiHost).equals(unmapped)) {
        return null;
      }
      return url.substring(0, start) + asciiHost + port + url.substring(end);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  public static void countDropped() {
    DROPPED.increment();
  }

  /** Links dropped since start because their URL was unsafe. */
  public static long droppedLinks() {
    return DROPPED.sum();
  }
}
