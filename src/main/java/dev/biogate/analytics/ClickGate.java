package dev.biogate.analytics;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.biogate.config.ClickOptions;
import dev.biogate.http.ClientAddress;
import dev.biogate.http.InboundLimiter;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.redis.client.Redis;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Which redirects count as clicks. Not counted (but still redirected): {@code HEAD}, prefetches and prerenders
 * ({@code Sec-Purpose}/{@code Purpose}/{@code X-Purpose}/{@code X-Moz} naming {@code prefetch} or {@code preview}),
 * User-Agents on the bot list or none at all, and a client's repeats of the same link within the window.
 *
 * <p>A client is a fingerprint: HMAC-SHA256 of its IP, User-Agent, creator and link under a key derived daily from
 * the configured secret, cut to 128 bits. Without one, every instance on the same Redis uses one random secret kept
 * there ({@link #shareSecret}): with a secret of its own per process, one visitor counted once per instance. The IP
 * and User-Agent are never stored; the daily key means fingerprints cannot be linked across days. Repeats are caught twice: here, in a bounded
 * per-instance map (fingerprint -> last counted, {@code maxTracked} entries, expiring after the window), so a flood
 * never reaches Redis; and cluster-wide, because the click's event id is the fingerprint plus the window number, so
 * the counter's counted-once marker ({@code click_count.lua}) drops a repeat that another instance let through.
 */
public final class ClickGate {

  private static final HexFormat HEX = HexFormat.of();
  private static final LuaScript SHARED = LuaScript.load("fingerprint_secret");

  private final long windowMs;
  private final List<String> bots;
  /**
   * The secret fingerprints are keyed with: configured, else shared through Redis (a random one until read), with when
   * it was first drawn (the oldest drawn wins in Redis).
   */
  private volatile SharedSecret secret;
  private final boolean configured;
  private long shareTimer = -1;
  private final ClientAddress clients;
  private final InboundLimiter limiter;
  private final Cache<String, Long> counted;
  /** Each thread's Mac under the day's key: derived when the day changes, never built per click. */
  private final ThreadLocal<DayMac> macs = new ThreadLocal<>();

  public ClickGate(ClickOptions o, List<String> trustedProxies, boolean exemptLoopback) {
    this.windowMs = o.windowS() * 1000;
    this.bots = o.botUserAgents();
    this.configured = o.fingerprintSecret() != null;
    this.secret = new SharedSecret(System.currentTimeMillis(), configured ? o.fingerprintSecret().bytes() : randomSecret());
    this.clients = ClientAddress.trusting(trustedProxies);
    this.limiter = new InboundLimiter("redirect", o.ratePerSec(), o.burst(), trustedProxies, exemptLoopback);
    // Upkeep on the calling event loop, not a pool thread woken again and again (see ProfileCache).
    this.counted = Caffeine.newBuilder().executor(Runnable::run).maximumSize(o.maxTracked()).expireAfterWrite(Duration.ofMillis(windowMs)).build();
  }

  /** The per-client redirect limit: false when the {@code 429} has been written. */
  boolean admit(HttpServerRequest req) {
    return limiter.admit(req);
  }

  /** The event id to record this redirect under, or {@code null} when it is not counted. */
  String countable(HttpServerRequest req, String username, String linkId, long now) {
    if (req.method() == HttpMethod.HEAD) {
      return null;
    }
    MultiMap h = req.headers();
    String ua = h.get("User-Agent");
    if (ua == null || ua.isBlank() || bot(ua) || prefetch(h)) {
      return null;
    }
    String ip = clients.keyText(req);
    String fp = fingerprint(ip == null ? "" : ip, ua, username, linkId, now);
    boolean[] fresh = {false};
    counted.asMap().compute(fp, (k, last) -> {
      if (last != null && now - last < windowMs) {
        return last;
      }
      fresh[0] = true;
      return now;
    });
    return fresh[0] ? "r-" + fp + "-" + now / windowMs : null;
  }

  private boolean bot(String ua) {
    String lower = ua.toLowerCase(Locale.ROOT);
    for (String b : bots) {
      if (lower.contains(b)) {
        return true;
      }
    }
    return false;
  }

  private static boolean prefetch(MultiMap h) {
    return names(h.get("Sec-Purpose")) || names(h.get("Purpose")) || names(h.get("X-Purpose")) || names(h.get("X-Moz"));
  }

  private static boolean names(String v) {
    if (v == null) {
      return false;
    }
    String lower = v.toLowerCase(Locale.ROOT);
    return lower.contains("prefetch") || lower.contains("prerender") || lower.contains("preview");
  }

  /** The visitor's fingerprint: 128 bits of HMAC over IP, User-Agent, creator and link, keyed by the day of {@code now}. */
  String fingerprint(String ip, String ua, String username, String linkId, long now) {
    Mac mac = dayKey(now / 86_400_000L);
    byte[] out = mac.doFinal((ip + '\n' + ua + '\n' + username + '\n' + linkId).getBytes(StandardCharsets.UTF_8));
    return HEX.formatHex(out, 0, 16);
  }

  /** This thread's Mac under the day's key (derived from the secret once per thread, day and secret). */
  private Mac dayKey(long day) {
    DayMac m = macs.get();
    byte[] s = secret.bytes();
    if (m == null || m.day != day || m.secret != s) {
      m = new DayMac(day, s, mac(hmac(s, ("biogate click fingerprint day " + day).getBytes(StandardCharsets.US_ASCII))));
      macs.set(m);
    }
    return m.mac;
  }

  /**
   * Unless a secret is configured: keys fingerprints with the secret every instance on this Redis shares
   * ({@code redis/fingerprint_secret.lua}: of the one there and this instance's, the one drawn first), now and every
   * {@code everyMs} after: Redis that lost its data gets the shared secret back from the running instances, even if a
   * new instance wrote its own in between. Until Redis first answers, this instance's random secret stands in.
   * Completes once Redis has answered the first time, or failed to (then the periodic look tries again);
   * {@link #stopSharing} ends the looks.
   */
  public Future<Void> shareSecret(Vertx vertx, Redis redis, long everyMs) {
    if (configured) {
      return Future.succeededFuture();
    }
    // Offers the secret held now, with when it was first drawn: the oldest wins, so after Redis lost its data the
    // running instances put back the one they share, even if a new instance wrote its own first.
    Supplier<Future<Void>> sync = () -> {
      SharedSecret mine = secret;
      return SHARED.run(redis, List.of(RedisKeys.CLICK_FINGERPRINT_SECRET),
          List.of(Long.toString(mine.drawnMs()), HEX.formatHex(mine.bytes())))
        .map(r -> {
          adopt(r == null ? null : r.toString());
          return (Void) null;
        })
        .recover(err -> Future.succeededFuture());
    };
    shareTimer = vertx.setPeriodic(everyMs, t -> sync.get());
    return sync.get();
  }

  /** Ends the periodic looks of {@link #shareSecret}. */
  public void stopSharing(Vertx vertx) {
    if (shareTimer >= 0) {
      vertx.cancelTimer(shareTimer);
      shareTimer = -1;
    }
  }

  /** Keys fingerprints with the shared secret {@code held} ({@code <drawn ms>:<hex>}) if it is another one. */
  private void adopt(String held) {
    int colon = held == null ? -1 : held.indexOf(':');
    if (colon <= 0) {
      return; // not written by an instance: keep the secret held
    }
    try {
      long drawn = Long.parseLong(held.substring(0, colon));
      byte[] shared = HEX.parseHex(held.substring(colon + 1));
      if (shared.length >= 16 && !Arrays.equals(shared, secret.bytes())) {
        secret = new SharedSecret(drawn, shared);
      }
    } catch (IllegalArgumentException e) {
      // not written by an instance: keep the secret held
    }
  }

  private static byte[] hmac(byte[] key, byte[] data) {
    return mac(key).doFinal(data);
  }

  private static Mac mac(byte[] key) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable", e);
    }
  }

  private static byte[] randomSecret() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return b;
  }

  private record DayMac(long day, byte[] secret, Mac mac) {
  }

  /** A fingerprint secret and when it was first drawn (ms). */
  private record SharedSecret(long drawnMs, byte[] bytes) {
  }
}
