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
 * proxy (left-most entries are client-supplied and cannot be believed). Every answer to a limited client carries the
 * IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-09): {@code RateLimit-Policy: "default";q=<burst>;w=<s
 * to refill>} and {@code RateLimit: "default";r=<requests left>;t=<s until full>}. Over the limit: {@code 429} with
 * {@code Retry-After} (seconds until the next request is allowed).
 */
public final class InboundLimiter {

  static final AsciiString RATELIMIT_POLICY = AsciiString.cached("RateLimit-Policy");
  static final AsciiString RATELIMIT = AsciiString.cached("RateLimit");
  private static final String BODY = ErrorResponses.body("too_many_requests", "request rate limit exceeded for this client");

  private final double ratePerNano;
  private final int burst;
  private final Set<String> trusted;
  private final boolean exemptLoopback;
  private final Cache<String, Bucket> buckets;
  private final AsciiString policy;

  public InboundLimiter(HttpOptions options) {
    this.ratePerNano = options.inboundRatePerSec() / 1e9;
    this.burst = options.inboundBurst();
    this.trusted = Set.copyOf(options.trustedProxies());
    this.exemptLoopback = options.exemptLoopback();
    this.buckets = Caffeine.newBuilder().maximumSize(200_000).expireAfterAccess(Duration.ofMinutes(2)).build();
    long window = ratePerNano > 0 ? Math.max(1, (long) Math.ceil(burst / options.inboundRatePerSec())) : 0;
    this.policy = AsciiString.cached("\"default\";q=" + burst + ";w=" + window);
  }

  public boolean enabled() {
    return ratePerNano > 0;
  }

  /** True when the request may proceed; otherwise the 429 has been written. */
  public boolean admit(HttpServerRequest req) {
    String client = clientOf(req);
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
