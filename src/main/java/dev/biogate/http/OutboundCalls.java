package dev.biogate.http;

import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClientOptions;

/**
 * How the gateway calls other services over HTTP (Linktree, Klaviyo, outbound destinations): one client shape and one
 * circuit-breaker shape, so every caller connects, keeps connections and trips the same way.
 */
public final class OutboundCalls {

  private OutboundCalls() {
  }

  /** Keep-alive, {@code User-Agent: biogate}, and a connect timeout of {@code connectTimeoutMs} (capped to an int). */
  public static WebClientOptions clientOptions(long connectTimeoutMs) {
    return new WebClientOptions().setUserAgent("biogate").setKeepAlive(true)
      .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, connectTimeoutMs));
  }

  /**
   * A breaker that opens after {@code maxFailures} failures within a rolling window of ten reset periods (at least one
   * second) and lets a probe through after {@code resetMs}. It neither times out nor retries calls itself: each caller
   * sets its request timeout and owns its retry policy.
   */
  public static CircuitBreaker breaker(Vertx vertx, String name, int maxFailures, long resetMs) {
    return CircuitBreaker.create(name, vertx, new CircuitBreakerOptions()
      .setMaxFailures(maxFailures)
      .setResetTimeout(resetMs)
      .setTimeout(-1)
      .setMaxRetries(0)
      .setFailuresRollingWindow(Math.max(1000, resetMs * 10)));
  }
}
