package dev.biogate.sandbox;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * What every API request goes through before its endpoint, in order: counted in the stats, held for the
 * simulated latency (on a timer, never blocking), failed by the current fault, then the bearer token and the per-token
 * rate limit ({@code /health} is also served without a token, uncounted). Every answer it lets out or fails
 * carries {@code X-RateLimit-Remaining}. With {@code authenticateHealth} even {@code /health} demands the token, like
 * an upstream that authenticates every path.
 */
final class SandboxGate implements Handler<RoutingContext> {

  static final String REMAINING = "X-RateLimit-Remaining";

  private final Vertx vertx;
  private final SandboxState state;
  private final byte[] token;
  private final boolean authenticateHealth;

  SandboxGate(Vertx vertx, SandboxState state, String token, boolean authenticateHealth) {
    this.vertx = vertx;
    this.state = state;
    this.token = token.getBytes(StandardCharsets.UTF_8);
    this.authenticateHealth = authenticateHealth;
  }

  @Override
  public void handle(RoutingContext ctx) {
    SandboxStats stats = state.stats();
    String path = ctx.request().path();
    stats.recordRequest(path == null ? "" : path);
    stats.recordTrace(ctx.request().getHeader("X-Request-Id"), ctx.request().getHeader("traceparent"));
    ctx.addHeadersEndHandler(v -> stats.recordStatus(ctx.response().getStatusCode()));
    long delay = state.faults().delayMs();
    if (delay > 0) {
      vertx.setTimer(delay, id -> admit(ctx));
    } else {
      admit(ctx);
    }
  }

  private void admit(RoutingContext ctx) {
    String presented = bearer(ctx);
    SandboxRateLimiter limiter = state.limiter();
    ctx.response().putHeader(REMAINING, Integer.toString(limiter.remaining(presented == null ? "" : presented)));
    SandboxException fault = state.faults().failure();
    if (fault != null) {
      if (fault.status == 429) {
        ctx.response().putHeader(REMAINING, "0");
      }
      ctx.fail(fault);
      return;
    }
    boolean valid = presented != null && MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8));
    if (!valid && !authenticateHealth && "/health".equals(ctx.request().path())) {
      ctx.next(); // open without a token, and then not counted; with the token it counts like any request
      return;
    }
    if (!valid) {
      ctx.fail(new SandboxException(401, "unauthorized", "missing or invalid bearer token"));
      return;
    }
    SandboxRateLimiter.Decision decision = limiter.tryAcquire(presented);
    ctx.response().putHeader(REMAINING, Integer.toString(decision.remaining()));
    if (decision.allowed()) {
      ctx.next();
    } else {
      ctx.fail(new SandboxException(429, "rate_limited", "rate limit of " + limiter.limit() + " requests per "
        + limiter.windowMs() + " ms exceeded", decision.retryAfterSeconds()));
    }
  }

  private static String bearer(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    return header.substring(7).trim();
  }
}
