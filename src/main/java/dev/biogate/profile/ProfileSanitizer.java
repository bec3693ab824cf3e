package dev.biogate.profile;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;

/**
 * Makes user-generated profile content safe to render: text loses markup and control characters and is bounded in
 * length; links keep only {@code http}, {@code https}, {@code mailto} and {@code tel} URLs; image URLs only
 * {@code http(s)}. A link with any other URL ({@code javascript:}, {@code data:}, malformed, obfuscated with control
 * characters) is dropped from the profile and counted, so it never reaches a client.
 */
public final class ProfileSanitizer {

  public static final int MAX_TITLE = 300;
  public static final int MAX_BIO = 2_000;
  public static final int MAX_URL = 2_048;

  private static final Set<String> LINK_SCHEMES = Set.of("http", "https", "mailto", "tel");
  private static final Set<String> IMAGE_SCHEMES = Set.of("http", "https");
  private static final Pattern TAG = Pattern.compile("<[^>]*>");
  private static final Pattern CONTROL = Pattern.compile("[\\p{Cc}\\p{Cf}&&[^\\n\\t]]");

  private static final LongAdder DROPPED = new LongAdder();

  private ProfileSanitizer() {
  }

  /** Plain text: tags removed, stray angle brackets and control characters (but newline, tab) removed, bounded. */
  public static String text(String s, int max) {
    if (s == null) {
      return null;
    }
    String t = TAG.matcher(s).replaceAll("");
    t = CONTROL.matcher(t).replaceAll("").replace("<", "").replace(">", "").strip();
    return t.length() > max ? t.substring(0, max) : t;
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
    try {
      URI uri = new URI(url);
      String scheme = uri.getScheme();
      if (scheme == null || !schemes.contains(scheme.toLowerCase(Locale.ROOT))) {
        return null;
      }
      if ((scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https")) && (uri.getHost() == null || uri.getHost().isEmpty())) {
        return null;
      }
      return url;
    } catch (URISyntaxException e) {
      return null;
    }
  }

  static void countDropped() {
    DROPPED.increment();
  }

  /** Links dropped since start because their URL was unsafe. */
  public static long droppedLinks() {
    return DROPPED.sum();
  }
}
