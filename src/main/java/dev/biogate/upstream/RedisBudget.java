package dev.biogate.upstream;

import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The upstream budget shared by every instance through Redis ({@code redis/rate_limit.lua}): at most
 * {@code limit} permits in any rolling window, cluster-wide, lanes served by priority, and one shared back-off
 * after an upstream 429.
 *
 * <p>When Redis is unreachable the instance does not fail open: it limits itself with a {@link LocalBudget} sized
 * from its last heartbeat reading, {@code (limit - used) / live} for the rest of the window, {@code limit / live}
 * after, logs the degradation once, and returns to the shared log when Redis answers again, restoring the permits
 * it granted itself meanwhile.
 */
public final class RedisBudget implements UpstreamBudget {

  private static final Logger LOG = LoggerFactory.getLogger(RedisBudget.class);
  private static final long REDIS_TIMEOUT_MS = 1_000;
  /** Heartbeats that must fail in a row before the instance degrades: one slow answer is not an outage. */
  private static final int HEARTBEAT_FAILURES_TO_DEGRADE = 3;

  private final Vertx vertx;
  private final Redis redis;
  private final int limit;
  private final long periodMs;
  private final LaneShares shares;
  private final String logKey;
  private final String blockedKey;
  private final String instancesKey;
  private final String instanceId = UUID.randomUUID().toString();
  private final AtomicLong seq = new AtomicLong();
  private final LuaScript limiter = LuaScript.load("rate_limit");
  private final LuaScript backoff = LuaScript.load("backoff");
  private final LuaScript heartbeat = LuaScript.load("heartbeat");
  private final LuaScript restore = LuaScript.load("budget_restore");
  private final LuaScript settle = LuaScript.load("budget_settle");
  private final long maxRequestMs;
  private final AtomicInteger liveInstances = new AtomicInteger(1);
  private final AtomicInteger sharedUsed = new AtomicInteger();
  private final AtomicInteger upstreamRemaining = new AtomicInteger(-1);
  private volatile long blockedUntilMs;
  /** Per lane: until when the budget told us this lane has no permit (epoch ms). Saves round trips in a storm. */
  private final long[] deniedUntilMs = new long[Lane.values().length];
  private volatile LocalBudget degraded;
  private final List<Long> degradedGrants = new ArrayList<>();
  private long heartbeatTimer = -1;
  private int heartbeatFailures;

  /**
   * @param maxRequestMs the longest an upstream request may take (its timeout); the local fallback window is widened
   *                     by it, since locally a permit cannot be re-stamped at completion
   */
  public RedisBudget(Vertx vertx, Redis redis, String name, int limit, long periodMs, long maxRequestMs, LaneShares shares) {
    this.vertx = vertx;
    this.maxRequestMs = maxRequestMs;
    this.redis = redis;
    this.limit = limit;
    this.periodMs = periodMs;
    this.shares = shares;
    this.logKey = RedisKeys.budgetLog(name);
    this.blockedKey = RedisKeys.budgetBlocked(name);
    this.instancesKey = RedisKeys.budgetInstances(name);
  }

  /** Starts the heartbeat that keeps the live-instance count and usage reading current, and probes recovery. */
  public Future<Void> start(long heartbeatMs) {
    heartbeatTimer = vertx.setPeriodic(0, heartbeatMs, id -> beat(heartbeatMs));
    return Future.succeededFuture();
  }

  public void stop() {
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
    }
    redis.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.ZREM).arg(instancesKey).arg(instanceId));
  }

  private void beat(long heartbeatMs) {
    heartbeat.run(redis, List.of(instancesKey, logKey), List.of(instanceId, Long.toString(heartbeatMs * 5_000L),
        Long.toString(periodMs * 1000L)))
      .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .onSuccess(r -> {
        heartbeatFailures = 0;
        liveInstances.set(Math.max(1, r.get(0).toInteger()));
        sharedUsed.set(r.get(1).toInteger());
        if (degraded != null) {
          recover();
        }
      })
      .onFailure(err -> {
        if (++heartbeatFailures >= HEARTBEAT_FAILURES_TO_DEGRADE) {
          degrade(err);
        }
      });
  }

  @Override
  public Future<Permit> acquire(Lane lane) {
    long blocked = blockedForMs();
    if (blocked > 0) {
      return Future.failedFuture(rateLimited(blocked));
    }
    long denied = deniedUntil(lane) - System.currentTimeMillis();
    if (denied > 0) {
      return Future.failedFuture(exhausted(denied));
    }
    LocalBudget local = degraded;
    if (local != null) {
      return acquireLocally(local, lane);
    }
    String member = instanceId + ":" + seq.incrementAndGet();
    return limiter.run(redis, List.of(logKey, blockedKey), List.of(Integer.toString(limit), Long.toString(periodMs * 1000L),
        Integer.toString(shares.ceiling(lane, limit)), member))
      .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .transform(ar -> {
        if (ar.failed()) {
          if (isTimeout(ar.cause())) {
            // A slow answer is not an outage (an overloaded instance sees these): deny this one call rather than
            // go local while the others keep using the shared log. Heartbeats decide about real outages.
            return Future.failedFuture(exhausted(REDIS_TIMEOUT_MS));
          }
          degrade(ar.cause());
          LocalBudget fallback = degraded;
          return fallback == null ? Future.failedFuture(ar.cause()) : acquireLocally(fallback, lane);
        }
        return decide(lane, member, ar.result());
      });
  }

  private Future<Permit> decide(Lane lane, String member, Response r) {
    boolean granted = r.get(0).toInteger() == 1;
    long waitMs = Math.max(1, (r.get(1).toLong() + 999) / 1000);
    int used = r.get(2).toInteger();
    if (granted) {
      sharedUsed.set(used);
      return Future.succeededFuture(() -> settle.run(redis, List.of(logKey), List.of(member))
        .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS));
    }
    if (used < 0) {
      // The shared back-off is set: another instance saw a 429. Adopt it locally too.
      noteBlocked(waitMs);
      return Future.failedFuture(rateLimited(waitMs));
    }
    noteDenied(lane, waitMs);
    return Future.failedFuture(exhausted(waitMs));
  }

  /** A lane denied until T means every lower lane is too (their ceilings are lower). */
  private void noteDenied(Lane lane, long waitMs) {
    long until = System.currentTimeMillis() + waitMs;
    synchronized (deniedUntilMs) {
      for (int i = lane.ordinal(); i < deniedUntilMs.length; i++) {
        deniedUntilMs[i] = Math.max(deniedUntilMs[i], until);
      }
    }
  }

  private long deniedUntil(Lane lane) {
    synchronized (deniedUntilMs) {
      return deniedUntilMs[lane.ordinal()];
    }
  }

  @Override
  public long deniedForMs(Lane lane) {
    return Math.max(blockedForMs(), deniedUntil(lane) - System.currentTimeMillis());
  }

  private static UpstreamException exhausted(long waitMs) {
    return new UpstreamException(UpstreamException.Kind.BUDGET_EXHAUSTED, "upstream budget exhausted", Math.max(1, waitMs), 0);
  }

  private Future<Permit> acquireLocally(LocalBudget local, Lane lane) {
    return local.acquire(lane).onSuccess(v -> {
      synchronized (degradedGrants) {
        degradedGrants.add(System.currentTimeMillis());
      }
    });
  }

  private synchronized void degrade(Throwable cause) {
    if (degraded != null) {
      return;
    }
    int live = Math.max(1, liveInstances.get());
    LocalBudget local = new LocalBudget(Math.max(1, limit / live), periodMs + maxRequestMs, shares);
    // For the rest of this window only what the cluster had not yet used is split between the live instances.
    int leftNow = Math.max(0, limit - sharedUsed.get()) / live;
    local.preload(Math.max(0, limit / live - leftNow));
    degraded = local;
    LOG.warn("redis unreachable for the shared upstream budget ({}); limiting this instance to {} of {} calls per {} ms ({} live instances)",
      cause.getClass().getSimpleName(), Math.max(1, limit / live), limit, periodMs, live);
  }

  private void recover() {
    List<String> args = new ArrayList<>();
    synchronized (degradedGrants) {
      long cutoff = System.currentTimeMillis() - periodMs;
      for (Long at : degradedGrants) {
        if (at > cutoff) {
          args.add(Long.toString(at * 1000L));
          args.add(instanceId + ":restored:" + seq.incrementAndGet());
        }
      }
      degradedGrants.clear();
    }
    Future<?> restored = args.isEmpty() ? Future.succeededFuture() : restore.run(redis, List.of(logKey), args);
    restored.onComplete(ar -> {
      synchronized (this) {
        degraded = null;
      }
      LOG.info("redis reachable again; shared upstream budget restored");
    });
  }

  /** Whether this instance is limiting itself locally because Redis is unreachable. */
  public boolean isDegraded() {
    return degraded != null;
  }

  @Override
  public void backOff(long retryAfterMs) {
    noteBlocked(retryAfterMs);
    if (degraded == null) {
      backoff.run(redis, List.of(blockedKey), List.of(Long.toString(retryAfterMs * 1000L)))
        .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }
  }

  private void noteBlocked(long ms) {
    long until = System.currentTimeMillis() + ms;
    if (until > blockedUntilMs) {
      blockedUntilMs = until;
    }
  }

  @Override
  public void observeRemaining(int remaining) {
    upstreamRemaining.set(remaining);
  }

  /** Last {@code X-RateLimit-Remaining} the upstream reported, -1 before the first call. */
  public int upstreamRemaining() {
    return upstreamRemaining.get();
  }

  /** Permits used in the current window, as last seen (shared log, or the local share while degraded). */
  public int used() {
    LocalBudget local = degraded;
    return local != null ? local.used() : sharedUsed.get();
  }

  public int limit() {
    return limit;
  }

  @Override
  public long blockedForMs() {
    return Math.max(0, blockedUntilMs - System.currentTimeMillis());
  }

  private static boolean isTimeout(Throwable t) {
    return t instanceof java.util.concurrent.TimeoutException || t instanceof io.vertx.core.impl.NoStackTraceTimeoutException
      || String.valueOf(t.getMessage()).toLowerCase().contains("timeout") || String.valueOf(t.getMessage()).toLowerCase().contains("timed out");
  }

  private static UpstreamException rateLimited(long ms) {
    return new UpstreamException(UpstreamException.Kind.RATE_LIMITED, "upstream asked us to back off", ms, 429);
  }
}
