package dev.biogate.http;

import io.vertx.core.Handler;
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
   * The first handler of a router: {@code 404} for paths this listener does not serve, and for any path not written
   * as the API table writes it: with a trailing slash, dot segments ({@code /health/./live}) or percent-encoded
   * letters ({@code /health/%6cive}), so one resource never has two URLs. The router alone takes each of these for
   * the plain path, where the profile and redirect paths are exact.
   */
  public static Handler<RoutingContext> only(boolean management) {
    return ctx -> {
      String p = ctx.normalizedPath();
      boolean serves = (health(p) || operator(p) == management) && p.charAt(p.length() - 1) != '/'
        && p.equals(ctx.request().path());
      if (serves) {
        ctx.next();
      } else {
        ErrorResponses.send(ctx.response(), NOT_FOUND);
      }
    };
  }

  static boolean operator(String p) {
    return p.equals("/metrics") || p.equals("/admin") || p.startsWith("/admin/");
  }

  static boolean health(String p) {
    return p.equals("/health") || p.startsWith("/health/");
  }
}
