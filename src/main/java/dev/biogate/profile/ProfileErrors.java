package dev.biogate.profile;

import dev.biogate.http.ApiException;

/**
 * The one place a {@link ProfileFailure} becomes an HTTP answer, for every handler that serves profile data
 * (profiles, links pages, redirects). Every kind is a 503 {@code upstream_unavailable} with {@code Retry-After}:
 * the client can do nothing but wait; the message says why. Other failures pass through unchanged.
 */
public final class ProfileErrors {

  private ProfileErrors() {
  }

  public static Throwable toHttp(Throwable failure) {
    if (!(failure instanceof ProfileFailure)) {
      return failure;
    }
    ProfileFailure f = (ProfileFailure) failure;
    String message;
    switch (f.kind()) {
      case CIRCUIT_OPEN: message = "the profile upstream is failing; no cached copy to serve"; break;
      case RATE_LIMITED: message = "no upstream call may be spent now (the shared budget, or its share for names this gateway has not seen before, is used up, or cannot be checked while Redis is unreachable, or the upstream asked for a pause with a 429); no cached copy to serve"; break;
      case UPSTREAM_AUTH: message = "the gateway cannot authenticate to the profile upstream"; break;
      default: message = "the profile upstream is unavailable; no cached copy to serve";
    }
    return new ApiException(503, "upstream_unavailable", message, ApiException.seconds(f.retryAfterMs()));
  }
}
