package dev.biogate.ops;

import dev.biogate.config.Secret;
import dev.biogate.http.ApiException;
import dev.biogate.http.ErrorResponses;
import dev.biogate.http.HttpTokens;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * The one guard of {@code /admin/*}, mounted before every admin route: {@code Authorization: Bearer <admin token>},
 * compared in constant time. Without a configured token every request is refused ({@code 401}): the admin API is off.
 */
public final class AdminAuth implements Handler<RoutingContext> {

  static final ApiException UNAUTHORIZED = new ApiException(401, "unauthorized", "a valid admin bearer token is required");

  private volatile Secret token;

  public AdminAuth(Secret token) {
    this.token = token;
  }

  /** Accepts {@code rotated} from now on, and no longer the previous token (rotation without restart). */
  public void tokenChanged(Secret rotated) {
    this.token = rotated;
  }

  @Override
  public void handle(RoutingContext ctx) {
    Secret token = this.token;
    if (token == null || !token.matches(HttpTokens.bearer(ctx.request().getHeader("Authorization")))) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      ErrorResponses.send(ctx.response(), UNAUTHORIZED);
      return;
    }
    ctx.next();
  }
}
