package dev.biogate.http;

import dev.biogate.config.HttpOptions;
import io.netty.util.AsciiString;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

import javax.crypto.Mac;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Per-client token buckets at the edge, keyed by client IP as {@link ClientAddress} resolves it (the peer, or behind
 * trusted proxies the first untrusted {@code X-Forwarded-For} hop from the right; left-most entries are
 * client-supplied and cannot be believed). Loopback clients are exempt only when configured so. Every answer to a
 * limited client carries the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-09), under the policy's name
 * ({@code "default"} at the edge, {@code "redirect"} for redirects):
 * {@code RateLimit-Policy: "default";q=<burst>;w=<s to refill>} and {@code RateLimit: "default";r=<requests
 * left>;t=<s until full>}. Over the limit: {@code 429} with {@code Retry-After} (seconds until the next request is
 * allowed).
 *
 * <p>The buckets live in one fixed table of {@value #SLOTS} slots, each a single {@code long}: the bucket's
 * theoretical arrival time (GCRA, the token bucket written as one timestamp: the bucket is full when it is in the
 * past, and each request moves it one emission interval on), updated by compare-and-set from any event loop. A
 * client's slot is picked by HMAC-SHA256 of its address under a random per-process key, so nobody can aim at
 * another client's slot. Clients that land in one slot share its bucket: that can only limit them sooner, never let
 * anyone through more. The table costs 2 MiB whatever the number of clients, and a request never allocates, evicts
 * or locks a per-client entry: a crowd of one-time readers (a viral page) or a flood from rotating addresses costs
 * no more than one client does.
 */
public final class InboundLimiter {

  /** Slots in the bucket table (a power of two). */
  static final int SLOTS = 1 << 18;
  /** The longest bucket depth kept (about 31 years), so that timestamps cannot overflow for absurd settings. */
  private static final long MAX_DEPTH_NANOS = 1_000_000_000_000_000_000L;

  static final AsciiString RATELIMIT_POLICY = AsciiString.cached("RateLimit-Policy");
  static final AsciiString RATELIMIT = AsciiString.cached("RateLimit");
  private static final String BODY = ErrorResponses.body("too_many_requests", "request rate limit exceeded for this client");

  private final boolean enabled;
  /** Nanoseconds per request at the sustained rate (the GCRA emission interval). */
  private final long interval;
  /** Nanoseconds of requests a full bucket holds: {@code burst} intervals. */
  private final long depth;
  private final ClientAddress clients;
  private final boolean exemptLoopback;
  private final String quotedName;
  private final AsciiString policy;
  private final LongSupplier clock;
  /** Per slot: the theoretical arrival time, in nanoseconds after {@link #origin}; 0 (the past) is a full bucket. */
  private final AtomicLongArray tat = new AtomicLongArray(SLOTS);
  private final long origin;
  private final byte[] key = new byte[32];
  private final ThreadLocal<Slotter> slotters = ThreadLocal.withInitial(() -> new Slotter(key));
  private Consumer<String> observer;

  public InboundLimiter(HttpOptions options) {
    this("default", options.inboundRatePerSec(), options.inboundBurst(), options.trustedProxies(), options.exemptLoopback());
  }

  /**
   * A limiter of its own (e.g. for one route), resolving clients the same way; {@code name} names its policy in the
   * RateLimit fields, which an answer limited by both this one and the edge's carries side by side.
   */
  public InboundLimiter(String name, double ratePerSec, int burst, java.util.List<String> trustedProxies, boolean exemptLoopback) {
    this(name, ratePerSec, burst, trustedProxies, exemptLoopback, System::nanoTime);
  }

  InboundLimiter(double ratePerSec, int burst, java.util.List<String> trustedProxies, boolean exemptLoopback, LongSupplier clock) {
    this("default", ratePerSec, burst, trustedProxies, exemptLoopback, clock);
  }

  private InboundLimiter(String name, double ratePerSec, int burst, java.util.List<String> trustedProxies, boolean exemptLoopback,
                         LongSupplier clock) {
    this.enabled = ratePerSec > 0;
    int size = Math.max(1, burst);
    double perRequest = enabled ? 1e9 / ratePerSec : 1;
    long d = (long) Math.min((double) MAX_DEPTH_NANOS, perRequest * size);
    this.interval = Math.max(1, d / size);
    this.depth = interval * size;
    this.clients = ClientAddress.trusting(trustedProxies);
    this.exemptLoopback = exemptLoopback;
    this.clock = clock;
    // Every slot starts full: its arrival time 0 is a full depth before the first request can arrive.
    this.origin = clock.getAsLong() - depth - 1;
    new SecureRandom().nextBytes(key);
    long window = enabled ? Math.max(1, (long) Math.ceil(size / ratePerSec)) : 0;
    this.quotedName = "\"" + name + "\"";
    this.policy = AsciiString.cached(quotedName + ";q=" + size + ";w=" + window);
  }

  /**
   * Tells {@code observer} the client key of every request this limiter sees (null when exempt), before any work on
   * it: the wiring hands it to the upstream miss quota, which charges misses to the client that caused them.
   */
  public InboundLimiter observeClients(Consumer<String> observer) {
    this.observer = observer;
    return this;
  }

  public boolean enabled() {
    return enabled;
  }

  /** True when the request may proceed; otherwise the 429 has been written. */
  public boolean admit(HttpServerRequest req) {
    byte[] ip = clients.of(req);
    boolean exempt = ip == null || (exemptLoopback && ClientAddress.loopback(ip));
    if (observer != null) {
      observer.accept(exempt ? null : clients.keyText(req));
    }
    if (exempt) {
      return true;
    }
    long now = now();
    long taken = acquire(slotOf(clients.key(req)), now);
    long next = next(taken, now);
    HttpServerResponse resp = req.response();
    long full = (next - now + 999_999_999L) / 1_000_000_000L;
    resp.headers().add(RATELIMIT_POLICY, policy).add(RATELIMIT, quotedName + ";r=" + left(taken, now) + ";t=" + full);
    if (taken > 0) {
      return true;
    }
    long retryS = Math.max(1, (-taken + 999_999_999L) / 1_000_000_000L);
    resp.setStatusCode(429).headers()
      .add(HttpHeaders.CONTENT_TYPE, "application/json")
      .add(HttpHeaders.RETRY_AFTER, Long.toString(retryS))
      .add(HttpHeaders.CACHE_CONTROL, "no-store");
    resp.end(BODY);
    return false;
  }

  /**
   * Takes a token from {@code slot}'s bucket at {@code now} (nanoseconds after {@link #origin}): the slot's new
   * arrival time (positive) when one was taken, else minus the nanoseconds until one will be (nothing is taken).
   */
  long acquire(int slot, long now) {
    while (true) {
      long old = tat.get(slot);
      long from = Math.max(old, now);
      long next = from + interval;
      if (next - now > depth) {
        return -(next - depth - now);
      }
      if (tat.compareAndSet(slot, old, next)) {
        return next;
      }
    }
  }

  /** Nanoseconds after this limiter's origin, as {@link #acquire} takes them. */
  long now() {
    return clock.getAsLong() - origin;
  }

  /** Whole requests the bucket holds after {@link #acquire} returned {@code taken} at {@code now}. */
  long left(long taken, long now) {
    return (now + depth - next(taken, now)) / interval;
  }

  /** The slot's arrival time after {@link #acquire} returned {@code taken}: moved on if admitted, as it was if not. */
  private long next(long taken, long now) {
    return taken > 0 ? taken : -taken + depth + now - interval;
  }

  /** The slot of a client address under this limiter's key (the table index its bucket lives at). */
  int slotOf(byte[] ip) {
    return slotters.get().slot(ip);
  }

  /** One thread's keyed hash of client addresses to slots; never shared between threads. */
  private static final class Slotter {
    private final Mac mac;
    private final byte[] out = new byte[32];

    Slotter(byte[] key) {
      try {
        mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HmacSHA256 is not available", e);
      }
    }

    int slot(byte[] ip) {
      mac.update(ip);
      try {
        mac.doFinal(out, 0);
      } catch (ShortBufferException e) {
        throw new IllegalStateException(e);
      }
      return ((out[0] & 0xff) << 16 | (out[1] & 0xff) << 8 | (out[2] & 0xff)) & (SLOTS - 1);
    }
  }
}
