package dev.biogate.analytics;

import dev.biogate.config.Secret;
import dev.biogate.http.ApiException;
import dev.biogate.http.ErrorResponses;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * Guards an admin route: {@code Authorization: Bearer <admin token>}, compared in constant time. Without a configured
 * token every request is refused ({@code 401}): the admin API is off.
 */
public final class AdminAuth implements Handler<RoutingContext> {

  static final ApiException UNAUTHORIZED = new ApiException(401, "unauthorized", "a valid admin bearer token is required");

  private final Secret token;

  public AdminAuth(Secret token) {
    this.token = token;
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (token == null || !token.matches(bearer(ctx.request()))) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      ErrorResponses.send(ctx.response(), UNAUTHORIZED);
      return;
    }
    ctx.next();
  }

  /** The bearer credential of a request, or {@code null} when it has none. */
  public static String bearer(HttpServerRequest req) {
    String header = req.getHeader("Authorization");
    if (header == null || header.length() <= 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String v = header.substring(7).trim();
    return v.isEmpty() ? null : v;
  }
}
