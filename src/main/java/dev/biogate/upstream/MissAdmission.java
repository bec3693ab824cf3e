package dev.biogate.upstream;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.biogate.config.FirstSightOptions;
import dev.biogate.http.ApiException;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

/**
 * Decides which lane a reader's miss takes, so that nobody can spend the upstream budget by asking for names that
 * do not exist. A name the gateway has reason to know keeps {@link Lane#FOREGROUND} (and its reserve): it is on the
 * configured list, or it carries a known-name marker in Redis, set whenever a fetch found the profile or a verified
 * webhook named it (long TTL; a profile held in L2 was fetched, so it is marked too); a marked name's miss first takes
 * a token from the client's quota of such misses, or one client reading known names nobody holds spends the budget.
 * Any other name takes {@link Lane#FIRST_SIGHT}: a bounded share of the budget, and first a token from the requesting
 * client's quota (cluster-wide in Redis; a local bucket while Redis does not answer). Over either quota:
 * {@code 429 miss_quota_exceeded}.
 *
 * <p>Only misses get here (the marker is read after L1 and L2 missed, never on a cache hit). Names that turned out
 * not to exist are not marked: otherwise a client could launder random names into the known lane, one quota token
 * each, and spend the reserve later when their negative entries expire.
 *
 * <p>The requesting client is the key the inbound limiter used for the request ({@link #attribute(String)}),
 * carried in the request's own Vert.x context, which the futures of the miss (L2 read, lock, budget) keep.
 */
public final class MissAdmission {

  /** How a miss was admitted, counted for {@code biogate_upstream_miss_admissions_total{result}}. */
  public enum Result {
    /** On the configured list of known names. */
    ALLOW_LISTED,
    /** Carries the known-name marker (fetched before, or named by a verified webhook). */
    KNOWN,
    /** Known, and the client's quota of misses for known names is spent: answered 429 {@code miss_quota_exceeded}. */
    KNOWN_QUOTA_EXCEEDED,
    /** Never seen: took the first-sight lane after a token from the client's quota. */
    FIRST_SIGHT,
    /** Never seen and the client's miss quota is spent: answered 429 {@code miss_quota_exceeded}. */
    QUOTA_EXCEEDED
  }

  /** Every miss keeps its lane: no marker, no quota (a client without Redis, e.g. preflight). */
  public static final MissAdmission OPEN = new MissAdmission(null, null, () -> false);

  private static final Object CLIENT = new Object();
  private static final long REDIS_TIMEOUT_MS = 500;

  private static final Logger LOG = LoggerFactory.getLogger(MissAdmission.class);

  private final Redis redis;
  private final FirstSightOptions options;
  private final AtomicBoolean loopbackHinted = new AtomicBoolean();
  private final Set<String> allowed;
  private final BooleanSupplier budgetIsLocal;
  private final LuaScript quota = LuaScript.load("miss_quota");
  private final LongAdder[] results = new LongAdder[Result.values().length];
  private final Cache<String, LocalBucket> fallback = Caffeine.newBuilder().executor(Runnable::run).maximumSize(100_000)
    .expireAfterAccess(Duration.ofMinutes(10)).build();

  /** @param budgetIsLocal whether the upstream budget is limiting this instance locally (Redis unreachable) */
  public MissAdmission(Redis redis, FirstSightOptions options, BooleanSupplier budgetIsLocal) {
    this.redis = redis;
    this.budgetIsLocal = budgetIsLocal;
    this.options = options;
    this.allowed = options == null ? Set.of() : Set.copyOf(options.known());
    for (int i = 0; i < results.length; i++) {
      results[i] = new LongAdder();
    }
  }

  /** Misses admitted (or refused) with {@code result} by this instance since it started. */
  public long count(Result result) {
    return results[result.ordinal()].sum();
  }

  /**
   * Records which client the current request is for; called by the inbound limiter on the request's context. A
   * request without a client key (exempt, or limits switched off) has no miss quota, only the bounded share.
   */
  public static void attribute(String client) {
    Context ctx = Vertx.currentContext();
    if (client != null && ctx instanceof ContextInternal && ((ContextInternal) ctx).isDuplicate()) {
      ((ContextInternal) ctx).localContextData().put(CLIENT, client);
    }
  }

  /** The client key of the request being served on this context, or {@code null}. */
  static String currentClient() {
    Context ctx = Vertx.currentContext();
    if (ctx instanceof ContextInternal && ((ContextInternal) ctx).isDuplicate()) {
      Object c = ((ContextInternal) ctx).localContextData().get(CLIENT);
      return c == null ? null : c.toString();
    }
    return null;
  }

  /** The lane a miss for {@code username} takes; fails with a 429 when a never-seen name is over the client's quota. */
  public Future<Lane> laneFor(String username, Lane lane) {
    if (lane != Lane.FOREGROUND || redis == null) {
      return Future.succeededFuture(lane);
    }
    if (allowed.contains(username)) {
      results[Result.ALLOW_LISTED.ordinal()].increment();
      return Future.succeededFuture(Lane.FOREGROUND);
    }
    String client = currentClient();
    return redis.send(Request.cmd(Command.EXISTS).arg(RedisKeys.knownName(username)))
      .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .<Boolean>map(r -> r != null && r.toInteger() > 0)
      .otherwise((Boolean) null)
      .compose(known -> {
        if (Boolean.TRUE.equals(known)) {
          // Nothing holds a copy, so this goes upstream: one client asking for many known names nobody read lately
          // would spend the whole budget (its lane has no share), and other readers of uncached creators got 503s.
          return take(client, RedisKeys.knownMissQuota(client), options.knownQuotaBurst(), options.knownQuotaPerMin(), false)
            .onComplete(ar -> results[(ar.succeeded() ? Result.KNOWN : Result.KNOWN_QUOTA_EXCEEDED).ordinal()].increment())
            .map(Lane.FOREGROUND);
        }
        // Unanswered while the budget is local (Redis unreachable): that small share cannot tell names apart either.
        // The reader keeps its lane; the client's quota is still charged, so no one client spends the share.
        Lane taken = known == null && budgetIsLocal.getAsBoolean() ? Lane.FOREGROUND : Lane.FIRST_SIGHT;
        return take(client, RedisKeys.missQuota(client), options.quotaBurst(), options.quotaPerMin(), true)
          .onComplete(ar -> results[(ar.succeeded() ? Result.FIRST_SIGHT : Result.QUOTA_EXCEEDED)
          .ordinal()].increment()).map(taken);
      });
  }

  /**
   * A never-seen name {@code client} asked for does not exist upstream: its quota is charged {@code notFoundCost}
   * tokens more (fire and forget, like the take; the local bucket while Redis does not answer). Readers asking for
   * real names pay one token each; a client inventing names pays for each one, so it cannot spend the share.
   */
  public void notFound(String client) {
    if (redis == null || client == null || options.quotaBurst() == 0 || options.notFoundCost() == 0) {
      return;
    }
    quota.run(redis, List.of(RedisKeys.missQuota(client)), List.of(Integer.toString(options.quotaBurst()),
        Double.toString(options.quotaPerMin() / 60.0), Integer.toString(options.notFoundCost())))
      .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .onFailure(err -> fallback.get(RedisKeys.missQuota(client), k -> new LocalBucket(options.quotaBurst())).charge(options.notFoundCost()));
  }

  /** Marks the name as known for the configured time (fire and forget: a lost mark costs a first-sight permit). */
  public void markKnown(String username) {
    if (redis != null) {
      redis.send(Request.cmd(Command.SET).arg(RedisKeys.knownName(username)).arg("1").arg("PX").arg(options.knownTtlMs()))
        .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }
  }

  /** A token from {@code client}'s bucket {@code key} ({@code firstSight}: never-seen names, else known ones). */
  private Future<Void> take(String client, String key, int burst, double perMin, boolean firstSight) {
    if (client == null || burst == 0) {
      return Future.succeededFuture();
    }
    return quota.run(redis, List.of(key), List.of(Integer.toString(burst), Double.toString(perMin / 60.0)))
      .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .map(r -> r.get(0).toInteger() == 1 ? 0L : Math.max(1, r.get(1).toLong() / 1000))
      .otherwise(err -> fallback.get(key, k -> new LocalBucket(burst)).take(burst, perMin / 60_000.0))
      .compose(waitMs -> waitMs == 0 ? Future.succeededFuture()
        : Future.failedFuture(firstSight ? refused(client, waitMs) : refusedKnown(waitMs)));
  }

  /** The known-name quota's 429. */
  private ApiException refusedKnown(long waitMs) {
    return new ApiException(429, "miss_quota_exceeded", "too many requests for profiles this gateway holds no copy of;"
      + " retry later", ApiException.seconds(waitMs))
      .limitedBy("known-miss", options.knownQuotaBurst(), windowSeconds(options.knownQuotaBurst(), options.knownQuotaPerMin()));
  }

  /** The first-sight quota's 429; the first time a loopback client gets it, the log says how to exempt such a client. */
  private ApiException refused(String client, long waitMs) {
    if ((client.startsWith("127.") || client.equals("::/64"))
        && loopbackHinted.compareAndSet(false, true)) {
      LOG.info("a loopback client used up its quota of misses for never-seen names (429 miss_quota_exceeded); a local"
        + " try or a load test from this host can set BIOGATE_EXEMPT_LOOPBACK=true, and a proxy on this host belongs in"
        + " BIOGATE_TRUSTED_PROXIES");
    }
    return new ApiException(429, "miss_quota_exceeded",
          "too many requests for profiles this gateway has not seen before; retry later", ApiException.seconds(waitMs))
          .limitedBy("first-sight", options.quotaBurst(), windowSeconds(options.quotaBurst(), options.quotaPerMin()));
  }

  /** Seconds for an empty quota to fill again: its RateLimit window. */
  private static long windowSeconds(int burst, double perMin) {
    return perMin <= 0 ? 0 : (long) Math.ceil(burst * 60.0 / perMin);
  }

  /** The local stand-in for a client's bucket while Redis does not answer. */
  private static final class LocalBucket {
    private double tokens;
    private long lastMs = System.currentTimeMillis();

    LocalBucket(int burst) {
      this.tokens = burst;
    }

    synchronized void charge(int tokens) {
      this.tokens = Math.max(this.tokens - tokens, -3.0 * tokens);
    }

    /** 0 when a token was taken, else milliseconds until one is available. */
    synchronized long take(int burst, double perMs) {
      long now = System.currentTimeMillis();
      tokens = Math.min(burst, tokens + (now - lastMs) * perMs);
      lastMs = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return perMs > 0 ? (long) Math.ceil((1 - tokens) / perMs) : 60_000;
    }
  }
}
