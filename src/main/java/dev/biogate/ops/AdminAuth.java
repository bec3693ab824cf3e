package dev.biogate.ops;

import dev.biogate.config.Secret;
import dev.biogate.http.ApiException;
import dev.biogate.http.ClientAddress;
import dev.biogate.http.ErrorResponses;
import dev.biogate.http.HttpTokens;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * The one guard of {@code /admin/*}, mounted before every admin route: {@code Authorization: Bearer <admin token>},
 * compared in constant time. Without a configured token every request is refused ({@code 401}): the admin API is off.
 * Guessing is bounded per client by {@link AdminGuessLimit}: a locked-out client gets {@code 429} with
 * {@code Retry-After} and its token is not even compared. A request that presents no token is refused without counting.
 */
public final class AdminAuth implements Handler<RoutingContext> {

  static final ApiException UNAUTHORIZED = new ApiException(401, "unauthorized", "a valid admin bearer token is required");
  static final ApiException DISABLED = new ApiException(401, "unauthorized",
    "the admin API is disabled: no admin token is configured (BIOGATE_ADMIN_TOKEN)");

  private volatile Secret token;
  private final AdminGuessLimit guesses;
  private final ClientAddress clients;

  /**
   * {@code clients} tells who a request comes from (the peer, or the client a trusted proxy names), as for every
   * per-client limit: counting the peer, anyone behind a trusted proxy locked every operator behind it out.
   */
  public AdminAuth(Secret token, AdminGuessLimit guesses, ClientAddress clients) {
    this.token = token;
    this.guesses = guesses;
    this.clients = clients;
  }

  /** Accepts {@code rotated} from now on, and no longer the previous token (rotation without restart). */
  public void tokenChanged(Secret rotated) {
    this.token = rotated;
  }

  @Override
  public void handle(RoutingContext ctx) {
    Secret token = this.token;
    // By the /64 for IPv6, as every per-client limit counts: one subscriber has the whole prefix to guess from.
    String key = clients.keyText(ctx.request());
    String client = key != null ? key : ClientAddress.peerKey(ctx.request().remoteAddress());
    long lockedMs = guesses.lockedForMs(client);
    if (lockedMs > 0) {
      ErrorResponses.send(ctx.response(), new ApiException(429, "too_many_auth_failures",
        "too many wrong admin tokens from this client; retry later", (lockedMs + 999) / 1000));
      return;
    }
    if (HttpTokens.repeated(ctx.request().headers(), "Authorization")) {
      ErrorResponses.send(ctx.response(), HttpTokens.REPEATED_AUTHORIZATION);
      return;
    }
    String presented = HttpTokens.bearer(ctx.request().getHeader("Authorization"));
    if (token == null || !token.matches(presented)) {
      if (presented != null) {
        // Only a presented token is a guess: counting requests without one would let anyone sharing the operator's
        // address (a NAT, a proxy) lock the operator out.
        guesses.failed(client);
      }
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      // Said when no token is configured: every token was refused alike, and an operator could not tell why.
      ErrorResponses.send(ctx.response(), token == null ? DISABLED : UNAUTHORIZED);
      return;
    }
    ctx.next();
  }
}
