package dev.biogate.ops;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * Admin token guessing, bounded per client: {@code maxFailures} wrong tokens within {@code windowMs} lock the client
 * out for {@code lockoutMs}, during which every admin request from it is refused (the right token too) without
 * comparing anything. Each failure is counted ({@code biogate_admin_auth_failures_total}), each lockout too
 * ({@code biogate_admin_auth_lockouts_total}) and logged once, when it starts: a burst of guesses is one log line.
 * Per instance; clients are kept in a bounded cache.
 */
public final class AdminGuessLimit {

  public static final int DEFAULT_MAX_FAILURES = 10;
  public static final long DEFAULT_WINDOW_MS = 60_000;
  public static final long DEFAULT_LOCKOUT_MS = 300_000;
  private static final Logger LOG = LoggerFactory.getLogger(AdminGuessLimit.class);

  private final int maxFailures;
  private final long windowMs;
  private final long lockoutMs;
  private final Cache<String, Client> clients;
  private final Counter failures;
  private final Counter lockouts;

  public AdminGuessLimit(MeterRegistry registry) {
    this(DEFAULT_MAX_FAILURES, DEFAULT_WINDOW_MS, DEFAULT_LOCKOUT_MS, registry);
  }

  AdminGuessLimit(int maxFailures, long windowMs, long lockoutMs, MeterRegistry registry) {
    this.maxFailures = maxFailures;
    this.windowMs = windowMs;
    this.lockoutMs = lockoutMs;
    this.clients = Caffeine.newBuilder().maximumSize(10_000).expireAfterAccess(Duration.ofMillis(windowMs + lockoutMs)).build();
    this.failures = Counter.builder("biogate_admin_auth_failures").description("admin requests refused for a wrong token (requests without one are not counted)")
      .register(registry);
    this.lockouts = Counter.builder("biogate_admin_auth_lockouts").description("clients locked out of the admin API for guessing")
      .register(registry);
  }

  /** Milliseconds the client is still locked out for, 0 when it may try. */
  public long lockedForMs(String client) {
    Client c = clients.getIfPresent(client);
    return c == null ? 0 : c.lockedForMs(System.currentTimeMillis());
  }

  /** Records a wrong or missing token. */
  public void failed(String client) {
    failures.increment();
    long now = System.currentTimeMillis();
    if (clients.get(client, k -> new Client()).fail(now, maxFailures, windowMs, lockoutMs)) {
      lockouts.increment();
      LOG.warn("admin API: {} wrong tokens from one client within {} s; refusing it for {} s", maxFailures, windowMs / 1000,
        lockoutMs / 1000);
    }
  }

  /** A client's recent failures; synchronized because admin requests may come in on several event loops. */
  static final class Client {
    private int failures;
    private long windowStart;
    private long lockedUntil;

    synchronized long lockedForMs(long now) {
      return Math.max(0, lockedUntil - now);
    }

    /** True when this failure starts a lockout. */
    synchronized boolean fail(long now, int max, long windowMs, long lockoutMs) {
      if (now - windowStart > windowMs) {
        windowStart = now;
        failures = 0;
      }
      if (++failures < max) {
        return false;
      }
      failures = 0;
      lockedUntil = now + lockoutMs;
      return true;
    }
  }
}
