package dev.biogate.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.biogate.config.HttpOptions;
import io.netty.util.AsciiString;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

import java.time.Duration;

/**
 * Per-client token buckets at the edge, keyed by client IP as {@link ClientAddress} resolves it (the peer, or behind
 * trusted proxies the first untrusted {@code X-Forwarded-For} hop from the right; left-most entries are
 * client-supplied and cannot be believed). Loopback clients are exempt only when configured so. Every answer to a
 * limited client carries the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-09):
 * {@code RateLimit-Policy: "default";q=<burst>;w=<s to refill>} and {@code RateLimit: "default";r=<requests
 * left>;t=<s until full>}. Over the limit: {@code 429} with {@code Retry-After} (seconds until the next request is
 * allowed).
 */
public final class InboundLimiter {

  private java.util.function.Consumer<String> observer = c -> { };

  static final AsciiString RATELIMIT_POLICY = AsciiString.cached("RateLimit-Policy");
  static final AsciiString RATELIMIT = AsciiString.cached("RateLimit");
  private static final String BODY = ErrorResponses.body("too_many_requests", "request rate limit exceeded for this client");

  private final double ratePerNano;
  private final int burst;
  private final ClientAddress clients;
  private final boolean exemptLoopback;
  private final Cache<String, Bucket> buckets;
  private final AsciiString policy;

  public InboundLimiter(HttpOptions options) {
    this(options.inboundRatePerSec(), options.inboundBurst(), options.trustedProxies(), options.exemptLoopback());
  }

  /** A limiter of its own (e.g. for one route), resolving clients the same way. */
  public InboundLimiter(double ratePerSec, int burst, java.util.List<String> trustedProxies, boolean exemptLoopback) {
    this.ratePerNano = ratePerSec / 1e9;
    this.burst = burst;
    this.clients = ClientAddress.trusting(trustedProxies);
    this.exemptLoopback = exemptLoopback;
    this.buckets = Caffeine.newBuilder().maximumSize(200_000).expireAfterAccess(Duration.ofMinutes(2)).build();
    long window = ratePerNano > 0 ? Math.max(1, (long) Math.ceil(burst / ratePerSec)) : 0;
    this.policy = AsciiString.cached("\"default\";q=" + burst + ";w=" + window);
  }

  /**
   * Tells {@code observer} the client key of every request this limiter sees (null when exempt), before any work on
   * it: the wiring hands it to the upstream miss quota, which charges misses to the client that caused them.
   */
  public InboundLimiter observeClients(java.util.function.Consumer<String> observer) {
    this.observer = observer;
    return this;
  }

  public boolean enabled() {
    return ratePerNano > 0;
  }

  /** True when the request may proceed; otherwise the 429 has been written. */
  public boolean admit(HttpServerRequest req) {
    String client = clientOf(req);
    observer.accept(client);
    if (client == null) {
      return true;
    }
    Bucket b = buckets.get(client, k -> new Bucket(burst));
    long now = System.nanoTime();
    long waitNanos = b.take(now, ratePerNano, burst);
    HttpServerResponse resp = req.response();
    double left = b.tokens();
    long full = (long) Math.ceil((burst - left) / ratePerNano / 1e9);
    resp.headers().add(RATELIMIT_POLICY, policy).add(RATELIMIT, "\"default\";r=" + (long) Math.floor(left) + ";t=" + full);
    if (waitNanos == 0) {
      return true;
    }
    long retryS = Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
    resp.setStatusCode(429).headers()
      .add(HttpHeaders.CONTENT_TYPE, "application/json")
      .add(HttpHeaders.RETRY_AFTER, Long.toString(retryS))
      .add(HttpHeaders.CACHE_CONTROL, "no-store");
    resp.end(BODY);
    return false;
  }

  /** The client address to limit, or {@code null} when the client is exempt. */
  String clientOf(HttpServerRequest req) {
    byte[] ip = clients.of(req);
    if (ip == null || (exemptLoopback && ClientAddress.loopback(ip))) {
      return null;
    }
    return clients.text(req);
  }

  /** A token bucket; synchronized because a client's connections may sit on different event loops. */
  static final class Bucket {
    private double tokens;
    private long last;

    Bucket(int burst) {
      this.tokens = burst;
      this.last = System.nanoTime();
    }

    /** Tokens left after the last {@link #take}. */
    synchronized double tokens() {
      return tokens;
    }

    /** 0 if a token was taken, else nanoseconds until one is available. */
    synchronized long take(long now, double ratePerNano, int burst) {
      tokens = Math.min(burst, tokens + (now - last) * ratePerNano);
      last = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return (long) Math.ceil((1 - tokens) / ratePerNano);
    }
  }
}
