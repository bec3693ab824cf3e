package dev.biogate.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.biogate.config.HttpOptions;
import io.netty.util.AsciiString;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.SocketAddress;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Per-client token buckets at the edge, keyed by client IP. The client is the connection's peer, or, when the
 * peer is a configured trusted proxy, the right-most {@code X-Forwarded-For} address that is not itself a trusted
 * proxy (left-most entries are client-supplied and cannot be believed). Over the limit: {@code 429} with
 * {@code RateLimit-Limit}, {@code RateLimit-Remaining}, {@code RateLimit-Reset} and {@code Retry-After}.
 */
public final class InboundLimiter {

  static final AsciiString RATELIMIT_LIMIT = AsciiString.cached("RateLimit-Limit");
  static final AsciiString RATELIMIT_REMAINING = AsciiString.cached("RateLimit-Remaining");
  static final AsciiString RATELIMIT_RESET = AsciiString.cached("RateLimit-Reset");
  private static final String BODY = ErrorResponses.body("too_many_requests", "request rate limit exceeded for this client");

  private final double ratePerNano;
  private final int burst;
  private final Set<String> trusted;
  private final boolean exemptLoopback;
  private final Cache<String, Bucket> buckets;

  public InboundLimiter(HttpOptions options) {
    this.ratePerNano = options.inboundRatePerSec() / 1e9;
    this.burst = options.inboundBurst();
    this.trusted = Set.copyOf(options.trustedProxies());
    this.exemptLoopback = options.exemptLoopback();
    this.buckets = Caffeine.newBuilder().maximumSize(200_000).expireAfterAccess(Duration.ofMinutes(2)).build();
  }

  public boolean enabled() {
    return ratePerNano > 0;
  }

  /** True when the request may proceed; otherwise the 429 has been written. */
  public boolean admit(HttpServerRequest req) {
    String client = clientOf(req);
    dev.biogate.upstream.MissAdmission.attribute(client);
    if (client == null) {
      return true;
    }
    Bucket b = buckets.get(client, k -> new Bucket(burst));
    long waitNanos = b.take(System.nanoTime(), ratePerNano, burst);
    if (waitNanos == 0) {
      return true;
    }
    long resetS = Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
    String reset = Long.toString(resetS);
    HttpServerResponse resp = req.response().setStatusCode(429);
    resp.headers()
      .add(HttpHeaders.CONTENT_TYPE, "application/json")
      .add(RATELIMIT_LIMIT, Integer.toString(burst))
      .add(RATELIMIT_REMAINING, "0")
      .add(RATELIMIT_RESET, reset)
      .add(HttpHeaders.RETRY_AFTER, reset)
      .add(HttpHeaders.CACHE_CONTROL, "no-store");
    resp.end(BODY);
    return false;
  }

  /** The client address to limit, or {@code null} when the client is exempt. */
  String clientOf(HttpServerRequest req) {
    SocketAddress peer = req.remoteAddress();
    String ip = peer == null ? null : peer.hostAddress();
    if (ip == null) {
      return null;
    }
    if (trusted.contains(ip)) {
      String xff = req.getHeader("X-Forwarded-For");
      if (xff != null) {
        String forwarded = rightmostUntrusted(xff);
        if (forwarded != null) {
          ip = forwarded;
        }
      }
    }
    if (exemptLoopback && (ip.startsWith("127.") || ip.equals("0:0:0:0:0:0:0:1") || ip.equals("::1"))) {
      return null;
    }
    return ip;
  }

  private String rightmostUntrusted(String xff) {
    List<String> hops = List.of(xff.split(","));
    for (int i = hops.size() - 1; i >= 0; i--) {
      String hop = hops.get(i).trim();
      if (hop.isEmpty() || hop.length() > 45) {
        return null;
      }
      if (!trusted.contains(hop)) {
        return hop;
      }
    }
    return null;
  }

  /** A token bucket; synchronized because a client's connections may sit on different event loops. */
  static final class Bucket {
    private double tokens;
    private long last;

    Bucket(int burst) {
      this.tokens = burst;
      this.last = System.nanoTime();
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
