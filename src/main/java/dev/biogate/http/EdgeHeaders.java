package dev.biogate.http;

import io.netty.util.AsciiString;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;

import java.util.List;
import java.util.Set;

/**
 * Headers every response carries, set once at the edge: security headers for a JSON API (no sniffing, no
 * framing, no referrer, nothing loadable) and CORS for the configured origins only, never {@code *}. A request from
 * any other origin gets no CORS headers, so browsers refuse to share the response.
 */
public final class EdgeHeaders {

  private static final AsciiString NOSNIFF = AsciiString.cached("nosniff");
  private static final AsciiString DENY = AsciiString.cached("DENY");
  private static final AsciiString NO_REFERRER = AsciiString.cached("no-referrer");
  private static final AsciiString CSP = AsciiString.cached("default-src 'none'; frame-ancestors 'none'");
  private static final AsciiString X_CONTENT_TYPE_OPTIONS = AsciiString.cached("X-Content-Type-Options");
  private static final AsciiString X_FRAME_OPTIONS = AsciiString.cached("X-Frame-Options");
  private static final AsciiString REFERRER_POLICY = AsciiString.cached("Referrer-Policy");
  private static final AsciiString CONTENT_SECURITY_POLICY = AsciiString.cached("Content-Security-Policy");
  private static final AsciiString ORIGIN = AsciiString.cached("Origin");
  private static final AsciiString ALLOW_METHODS = AsciiString.cached("GET, HEAD, OPTIONS");
  private static final ApiException METHOD_REFUSED = new ApiException(403, "method_not_allowed",
    "pages may only read from this API (GET, HEAD)");
  private static final AsciiString ALLOW_HEADERS = AsciiString.cached("Authorization, If-None-Match, Content-Type");
  private static final AsciiString EXPOSE_HEADERS = AsciiString.cached("ETag, Age, X-Cache, Cache-Status, Retry-After, RateLimit, RateLimit-Policy, X-Request-Id");
  private static final AsciiString PREFLIGHT_MAX_AGE = AsciiString.cached("600");

  private final Set<String> origins;

  public EdgeHeaders(List<String> corsOrigins) {
    this.origins = Set.copyOf(corsOrigins);
  }

  /** Adds {@code Date} and the security headers alone (answers to requests the codec could not decode get no CORS). */
  static void security(MultiMap h) {
    h.add(HttpDate.NAME, HttpDate.now());
    h.add(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    h.add(X_FRAME_OPTIONS, DENY);
    h.add(REFERRER_POLICY, NO_REFERRER);
    h.add(CONTENT_SECURITY_POLICY, CSP);
  }

  /**
   * {@code Date} (given: answers written below the HTTP encoder are built once, and each copy sent is dated then) and
   * the security headers as raw header lines.
   */
  static String securityLines(CharSequence date) {
    return HttpDate.NAME + ": " + date + "\r\n" + X_CONTENT_TYPE_OPTIONS + ": " + NOSNIFF + "\r\n" + X_FRAME_OPTIONS + ": " + DENY + "\r\n" + REFERRER_POLICY + ": "
      + NO_REFERRER + "\r\n" + CONTENT_SECURITY_POLICY + ": " + CSP + "\r\n";
  }

  /**
   * Whether a preflight requests one method, and one the API serves to pages (methods are case-sensitive). A
   * preflight names a single method; of two, a browser would be told about one and the other let through unchecked.
   */
  private static boolean pageMethod(List<String> requested) {
    if (requested.size() != 1) {
      return false;
    }
    String m = requested.get(0).trim();
    return "GET".equals(m) || "HEAD".equals(m) || "OPTIONS".equals(m);
  }

  /**
   * Adds the edge headers to the response. Returns {@code true} when the request was a CORS preflight and has been
   * answered.
   */
  public boolean apply(HttpServerRequest req) {
    MultiMap h = req.response().headers();
    security(h);
    if (origins.isEmpty()) {
      return false;
    }
    String origin = req.headers().get(ORIGIN);
    boolean allowed = origin != null && origins.contains(origin);
    h.add(HttpHeaders.VARY, ORIGIN);
    if (allowed) {
      h.add(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
      h.add(HttpHeaders.ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSE_HEADERS);
    }
    if (req.method() == HttpMethod.OPTIONS && req.headers().contains(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD)) {
      if (allowed && !pageMethod(req.headers().getAll(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD))) {
        // The API serves pages reads only; a 204 for another method told the browser nothing it could use.
        ErrorResponses.send(req.response(), METHOD_REFUSED);
      } else if (allowed) {
        h.add(HttpHeaders.ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS);
        h.add(HttpHeaders.ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS);
        h.add(HttpHeaders.ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE);
        req.response().setStatusCode(204).end();
      } else {
        ErrorResponses.send(req.response(), new ApiException(403, "origin_not_allowed", "this origin may not call the API"));
      }
      return true;
    }
    return false;
  }
}
