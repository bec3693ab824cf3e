package dev.biogate.http;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.util.Locale;

/**
 * What a request must say of its body before biogate reads it as JSON: {@code Content-Type: application/json} (UTF-8,
 * the only charset JSON has, RFC 8259 8.1) and no content coding, since nothing is inflated here (no decompression
 * bomb) and a signature covers the bytes as sent. One instance per kind of body, its two refusals made once.
 */
public final class JsonBodies {

  private final ApiException notJson;
  private final ApiException encoded;

  /** The refusals for {@code bodies} (a plural noun, e.g. "webhook bodies"), both {@code 415 unsupported_media_type}. */
  public JsonBodies(String bodies) {
    this.notJson = new ApiException(415, "unsupported_media_type", bodies + " must be application/json (UTF-8)");
    this.encoded = new ApiException(415, "unsupported_media_type",
      bodies + " are accepted without a content coding (Content-Encoding: identity or none)");
  }

  /** The {@code 415} for a body that is not plain UTF-8 JSON, or {@code null} when it is. */
  public ApiException refusal(MultiMap headers) {
    return !isJson(headers.get(HttpHeaders.CONTENT_TYPE)) ? notJson : encoded(headers) ? encoded : null;
  }

  /** {@code application/json}, optionally with {@code charset=utf-8}; any other charset is refused. */
  static boolean isJson(String contentType) {
    if (contentType == null) {
      return false;
    }
    String[] parts = contentType.split(";");
    if (!parts[0].trim().equalsIgnoreCase("application/json")) {
      return false;
    }
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].trim().toLowerCase(Locale.ROOT);
      if (p.startsWith("charset=")) {
        String cs = p.substring("charset=".length()).replace("\"", "");
        if (!cs.equals("utf-8") && !cs.equals("utf8")) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Whether the body is declared in a content coding: any {@code Content-Encoding} line other than blank or
   * {@code identity}. Lines of a list field are one list (RFC 9110 5.3): {@code identity} then {@code gzip} on two
   * lines is gzip, which reading the first line alone let through.
   */
  static boolean encoded(MultiMap headers) {
    if (!headers.contains(HttpHeaders.CONTENT_ENCODING)) {
      return false;
    }
    for (String coding : headers.getAll(HttpHeaders.CONTENT_ENCODING)) {
      if (!coding.isBlank() && !"identity".equalsIgnoreCase(coding.trim())) {
        return true;
      }
    }
    return false;
  }
}
