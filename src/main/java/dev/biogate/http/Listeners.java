package dev.biogate.http;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.net.RFC3986;
import io.vertx.ext.web.RoutingContext;

/**
 * Which listener serves which paths. Operator endpoints ({@code /metrics}, {@code /admin/*}) only on the management
 * listener; client endpoints only on the client listener; {@code /health*} on both. The check reads the router's
 * normalised path (percent-decoded unreserved characters, dot segments removed), the same path routes match, so
 * {@code /health/%2e%2e/metrics} is {@code /metrics} here too.
 */
public final class Listeners {

  static final ApiException NOT_FOUND = new ApiException(404, "not_found", "no such resource");

  private Listeners() {
  }

  /**
   * The first handler of a router: {@code 404} for paths this listener does not serve, and for any path with a
   * trailing slash, a dot segment ({@code /health/./live}, {@code /x/../health}, also percent-encoded) or an empty
   * segment ({@code //health}): the router alone takes each of these for the plain path, where the profile and
   * redirect paths are exact, so one resource had several URLs. A percent-encoded unreserved character
   * ({@code %64emo}) is the same URI as the character itself (RFC 3986 §6.2.2.2) and is read as it, as the profile
   * path reads it.
   */
  public static Handler<RoutingContext> only(boolean management) {
    return ctx -> {
      String p = ctx.normalizedPath();
      boolean serves = (health(p) || operator(p) == management) && p.charAt(p.length() - 1) != '/'
        && plainPath(ctx.request().path());
      if (serves) {
        ctx.next();
      } else {
        ErrorResponses.send(ctx.response(), NOT_FOUND);
      }
    };
  }

  /** No dot segment (literal or percent-encoded) and no empty segment in the path as the client wrote it. */
  static boolean plainPath(String raw) {
    if (raw == null) {
      return true;
    }
    if (raw.contains("//") || raw.contains("%2e") || raw.contains("%2E")) {
      return false;
    }
    return raw.indexOf('.') < 0 || RFC3986.removeDotSegments(raw).equals(raw);
  }

  static boolean operator(String p) {
    return p.equals("/metrics") || p.equals("/admin") || p.startsWith("/admin/");
  }

  static boolean health(String p) {
    return p.equals("/health") || p.startsWith("/health/");
  }

  /** The health probes themselves ({@code /health}, {@code /health/live}, {@code /health/ready}): never rate-limited. */
  static boolean probe(String p) {
    return p.equals("/health") || p.equals("/health/live") || p.equals("/health/ready");
  }

  /** The most body a health probe is read with before its answer; past it the probe is answered at once. */
  static final int MAX_PROBE_BODY = 1024;

  /**
   * Takes a health probe ({@link #probe}) that carries a body of at most {@value #MAX_PROBE_BODY} bytes and hands it
   * to {@code route} once the body has been read and dropped; false (nothing done) for any other request. A probe is
   * answered at once, so its answer used to go out before its body was read, which closes the connection like any
   * answer before the body: the request pipelined behind it in the same packet went unanswered (11 of 20 tries). A
   * larger body, declared or sent chunked, is not read: the probe is answered then and its connection closed, as on
   * every other path (300 probes declaring 1-GB bodies held the management listener for the 30-s body deadline).
   */
  static boolean healthAfterItsBody(HttpServerRequest req, String path, Handler<HttpServerRequest> route) {
    if (path == null || !probe(path) || req.isEnded() || !declaresBody(req)) {
      return false;
    }
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length != null && !small(length)) {
      return false;
    }
    long[] read = {0};
    boolean[] routed = {false};
    Handler<Void> answer = v -> {
      if (!routed[0]) {
        routed[0] = true;
        route.handle(req);
      }
    };
    req.handler(chunk -> {
      read[0] += chunk.length();
      if (read[0] > MAX_PROBE_BODY) {
        answer.handle(null);
      }
    });
    req.endHandler(answer);
    return true;
  }

  /** A {@code Content-Length} of at most {@value #MAX_PROBE_BODY} (the codec has checked it is one number). */
  private static boolean small(String length) {
    String v = length.trim();
    return v.length() <= 4 && Integer.parseInt(v) <= MAX_PROBE_BODY;
  }

  private static boolean declaresBody(HttpServerRequest req) {
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    return length != null && !"0".equals(length.trim()) || req.headers().contains(HttpHeaders.TRANSFER_ENCODING);
  }
}
