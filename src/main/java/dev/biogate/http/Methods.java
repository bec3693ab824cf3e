package dev.biogate.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.Set;
import java.util.TreeSet;

/**
 * Method hygiene for both listeners: {@code HEAD} wherever {@code GET} is served (Vert.x writes the headers and the
 * {@code Content-Length} of the body it does not send), {@code 405} with {@code Allow} naming the methods a known path
 * does serve, and JSON answers to request targets no route can have ({@code OPTIONS *}, {@code CONNECT}).
 */
public final class Methods {

  static final String PROFILE_ALLOW = "GET, HEAD";
  private static final String SERVER_ALLOW = "GET, HEAD, POST, OPTIONS";

  private Methods() {
  }

  /**
   * For a {@code HEAD} answer: Vert.x does not set {@code Content-Length} when it drops a HEAD body, so set it to the
   * length of the body the handler ended with, as {@code GET} would have sent.
   */
  static void contentLengthOfHead(HttpServerResponse resp) {
    resp.headersEndHandler(v -> fillContentLength(resp));
  }

  private static void fillContentLength(HttpServerResponse resp) {
    if (!resp.headers().contains(HttpHeaders.CONTENT_LENGTH) && resp.getStatusCode() != 304) {
      resp.headers().set(HttpHeaders.CONTENT_LENGTH, Long.toString(resp.bytesWritten()));
    }
  }

  static final ApiException MALFORMED_URI = new ApiException(400, "malformed_uri", "the request URI has an invalid percent-encoding");

  /**
   * Answers {@code CONNECT}, the asterisk form ({@code OPTIONS *}), other targets that are not a path, and a target
   * with a malformed percent-escape (the router fails on it); true when it did.
   */
  static boolean oddTarget(HttpServerRequest req) {
    if (req.method() == HttpMethod.CONNECT) {
      req.response().putHeader(HttpHeaders.ALLOW, SERVER_ALLOW);
      ErrorResponses.send(req.response(), new ApiException(405, "method_not_allowed", "CONNECT is not served: this is not a proxy"));
      return true;
    }
    String path = req.path();
    if (path == null || !path.startsWith("/")) {
      if (req.method() == HttpMethod.OPTIONS && "*".equals(path)) {
        req.response().putHeader(HttpHeaders.ALLOW, SERVER_ALLOW).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .putHeader(HttpHeaders.CACHE_CONTROL, "no-store").end("{\"allow\":[\"GET\",\"HEAD\",\"POST\",\"OPTIONS\"]}");
      } else {
        ErrorResponses.send(req.response(), new ApiException(400, "invalid_target", "the request target must be an absolute path"));
      }
      return true;
    }
    if (!validEscapes(req.uri())) {
      ErrorResponses.send(req.response(), MALFORMED_URI);
      return true;
    }
    return false;
  }

  /** Every {@code %} in the URI starts a two-hex-digit escape; anything else cannot be decoded into a path or query. */
  static boolean validEscapes(String uri) {
    for (int i = uri.indexOf('%'); i >= 0; i = uri.indexOf('%', i + 1)) {
      if (i + 2 >= uri.length() || !hex(uri.charAt(i + 1)) || !hex(uri.charAt(i + 2))) {
        return false;
      }
    }
    return true;
  }

  /** An ASCII hex digit ({@link Character#digit} also takes other scripts' digits). */
  private static boolean hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /** {@code 405} for a profile read path with another method. */
  static void profileNotAllowed(HttpServerRequest req) {
    req.response().putHeader(HttpHeaders.ALLOW, PROFILE_ALLOW);
    ErrorResponses.send(req.response(), new ApiException(405, "method_not_allowed", "this resource serves " + PROFILE_ALLOW));
  }

  /** Adds {@code HEAD} to every route that serves {@code GET}; call once all routes are mounted. */
  public static void headForGets(Router router) {
    for (Route route : router.getRoutes()) {
      Set<HttpMethod> methods = route.methods();
      if (methods != null && methods.contains(HttpMethod.GET) && !methods.contains(HttpMethod.HEAD)) {
        route.method(HttpMethod.HEAD);
      }
    }
  }

  /**
   * The router's last handler: {@code 405} when a route serves this path with other methods, else JSON {@code 404}.
   * {@code HEAD} is no exception: a path a GET route serves never gets here ({@link #headForGets}), so a HEAD that
   * does is 404 like the GET would be, or 405 on a path served for other methods only.
   */
  public static void notFound(Router router, RoutingContext ctx) {
    if (!allowed(router, ctx.normalizedPath()).isEmpty()) {
      notAllowed(router, ctx);
    } else {
      ErrorResponses.send(ctx.response(), Listeners.NOT_FOUND);
    }
  }

  /** Called first on a router for {@code HEAD} requests (see {@link #contentLengthOfHead}). */
  public static void routedHead(RoutingContext ctx) {
    if (ctx.request().method() == HttpMethod.HEAD) {
      HttpServerResponse resp = ctx.response();
      ctx.addHeadersEndHandler(v -> fillContentLength(resp));
    }
    ctx.next();
  }

  /** The router's 405 handler: JSON, with {@code Allow} listing the methods of the routes whose path matches. */
  public static void notAllowed(Router router, RoutingContext ctx) {
    Set<String> allow = allowed(router, ctx.normalizedPath());
    if (!allow.isEmpty()) {
      ctx.response().putHeader(HttpHeaders.ALLOW, String.join(", ", allow));
    }
    ErrorResponses.send(ctx.response(), new ApiException(405, "method_not_allowed", "method not allowed on this resource"));
  }

  private static Set<String> allowed(Router router, String path) {
    Set<String> allow = new TreeSet<>();
    for (Route route : router.getRoutes()) {
      if (route.methods() != null && route.getPath() != null && matches(route.getPath(), path)) {
        route.methods().forEach(m -> allow.add(m.name()));
      }
    }
    return allow;
  }

  /** A route template ({@code /r/:username/:linkId}, {@code /admin/*}) against a normalised path, segment by segment. */
  static boolean matches(String template, String path) {
    int t = 0;
    int p = 0;
    while (t < template.length() && p < path.length()) {
      if (template.charAt(t) == '*') {
        return true;
      }
      if (template.charAt(t) == ':') {
        int tEnd = template.indexOf('/', t);
        int pEnd = path.indexOf('/', p);
        if ((pEnd < 0 ? path.length() : pEnd) == p) {
          return false;
        }
        t = tEnd < 0 ? template.length() : tEnd;
        p = pEnd < 0 ? path.length() : pEnd;
        continue;
      }
      if (template.charAt(t) != path.charAt(p)) {
        return false;
      }
      t++;
      p++;
    }
    return (t == template.length() || template.startsWith("*", t)) && p == path.length();
  }
}
