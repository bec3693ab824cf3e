package dev.biogate.upstream;

import dev.biogate.config.LinktreeOptions;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisErrors;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.types.ErrorType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
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
 * <p>Exact across outages (the whole argument is in the header of {@code redis/rate_limit.lua}):
 * <ul>
 *   <li>Only a lost connection (or heartbeats timing out in a row) makes an instance limit itself locally; a
 *       command error (NOSCRIPT that could not be recovered, WRONGTYPE, OOM, ...) denies that one call and nothing
 *       more.</li>
 *   <li>Locally it takes its reported share, {@code limit / instances} (none before its first report reached the
 *       roster: no share of it is reserved anywhere). It starts a window (plus the longest request) after the shared
 *       log began counting that share as used ({@code silence} after its last report), once whatever the others were
 *       granted before that has left the window, and stops {@code localGrantMs} after its last report (the shared
 *       log keeps counting the share for a window after that).</li>
 *   <li>It remembers every permit it was granted in the last window, shared or local, and when Redis answers again
 *       it writes them all back and re-registers in one script ({@code budget_restore.lua}) before taking any new
 *       permit; the grants stay remembered whether or not the restore worked. If the shared state was lost, the first
 *       instance back puts every instance it knew back as well, and the log reserves their shares and holds new
 *       grants until they have restored theirs.</li>
 * </ul>
 */
public final class RedisBudget implements UpstreamBudget {

  private static final Logger LOG = LoggerFactory.getLogger(RedisBudget.class);
  static final long REDIS_TIMEOUT_MS = 1_000;
  /** Heartbeats that must time out in a row before the instance degrades: one slow answer is not an outage. */
  private static final int HEARTBEAT_TIMEOUTS_TO_DEGRADE = 3;
  /** Heartbeat periods without a report after which the shared log counts an instance's local share as used. */
  private static final int SILENT_HEARTBEATS = 3;
  /** The most own grants remembered for a restore (a window's worth for any realistic upstream budget). */
  private static final int REMEMBERED_GRANTS = 4_096;
  private static final long ERROR_LOG_INTERVAL_MS = 60_000;

  private final Vertx vertx;
  private final Redis redis;
  private final int limit;
  private final long periodMs;
  private final long maxRequestMs;
  private final LaneShares shares;
  private final int maxInstances;
  private final long localGrantMs;
  /** The budget's name in its keys and log lines: {@code linktree}, {@code klaviyo}. */
  private final String name;
  private final String logKey;
  private final String blockedKey;
  private final String rosterKey;
  private final String detailsKey;
  private final String firstSightKey;
  private final String putBackKey;
  private final String leftKey;
  private final String instanceId = UUID.randomUUID().toString();
  private final AtomicLong seq = new AtomicLong();
  private final LuaScript limiter = LuaScript.load("rate_limit");
  private final LuaScript backoff = LuaScript.load("backoff");
  private final LuaScript heartbeat = LuaScript.load("heartbeat");
  private final LuaScript restore = LuaScript.load("budget_restore");
  private final LuaScript settle = LuaScript.load("budget_settle");
  private final LuaScript leave = LuaScript.load("budget_leave");
  private final AtomicInteger sharedUsed = new AtomicInteger();
  private final AtomicInteger upstreamRemaining = new AtomicInteger(-1);
  /** Per lane: until when the budget told us this lane has no permit (epoch ms). Saves round trips in a storm. */
  private final long[] deniedUntilMs = new long[Lane.values().length];
  private final ArrayDeque<Grant> grants = new ArrayDeque<>();
  private volatile long heartbeatMs = LinktreeOptions.DEFAULT_HEARTBEAT_MS;
  private volatile long blockedUntilMs;
  private volatile int liveInstances;
  /** A report (heartbeat or restore) has reached Redis; until then nothing of ours is in the roster. */
  private volatile boolean reported;
  private volatile long lastReportSentNanos;
  /** When the last report was sent, answered or not: one that timed out may still have reached Redis. */
  private volatile long lastReportAttemptNanos;
  private volatile int reportedShare;
  /** The share the last report carried, answered or not (an unanswered one may have replaced the reported one). */
  private volatile int attemptedShare = Integer.MAX_VALUE;
  /** The roster as last read: quadruples (id, last report in microseconds, share, grants). */
  private volatile List<String> roster = List.of();
  private volatile Degraded degraded;
  /** Set by {@link #stop}: a report still in flight then fails with the closing client, which is no outage. */
  private volatile boolean stopped;
  private Future<Void> restoring;
  private long heartbeatTimer = -1;
  private int heartbeatTimeouts;
  private long lastErrorLogMs;

  /**
   * @param maxRequestMs the longest an upstream request may take (its timeout); the local fallback window is widened
   *                     by it, since locally a permit cannot be re-stamped at completion
   */
  public RedisBudget(Vertx vertx, Redis redis, String name, int limit, long periodMs, long maxRequestMs, LaneShares shares) {
    this(vertx, redis, name, limit, periodMs, maxRequestMs, shares, LinktreeOptions.DEFAULT_MAX_INSTANCES,
      LinktreeOptions.DEFAULT_LOCAL_GRANT_MS);
  }

  /**
   * @param maxInstances the most instances that may share the budget: an instance that has not read the roster yet
   *                     assumes this many when it has to limit itself locally
   * @param localGrantMs how long after its last report an instance cut off from Redis may keep granting itself
   *                     permits (the shared log reserves its share until a window after that)
   */
  public RedisBudget(Vertx vertx, Redis redis, String name, int limit, long periodMs, long maxRequestMs, LaneShares shares,
                     int maxInstances, long localGrantMs) {
    this.vertx = vertx;
    this.redis = redis;
    this.limit = limit;
    this.periodMs = periodMs;
    this.maxRequestMs = maxRequestMs;
    this.shares = shares;
    this.maxInstances = Math.max(1, maxInstances);
    this.localGrantMs = localGrantMs;
    this.liveInstances = this.maxInstances;
    this.name = name;
    this.logKey = RedisKeys.budgetLog(name);
    this.blockedKey = RedisKeys.budgetBlocked(name);
    this.rosterKey = RedisKeys.budgetInstances(name);
    this.detailsKey = RedisKeys.budgetPart(name, "details");
    this.firstSightKey = RedisKeys.budgetPart(name, "lane:first_sight");
    this.putBackKey = RedisKeys.budgetPart(name, "putback");
    this.leftKey = RedisKeys.budgetPart(name, "left");
  }

  /** Starts the heartbeat that keeps the roster and usage reading current, and restores after an outage. */
  public Future<Void> start(long heartbeatMs) {
    this.heartbeatMs = heartbeatMs;
    heartbeatTimer = vertx.setPeriodic(0, heartbeatMs, id -> beat());
    return Future.succeededFuture();
  }

  /**
   * Stops reporting. A connected instance leaves the roster at once; one cut off from Redis stays in it, so its
   * share remains reserved until its record lapses. Completes when the leave is done (or failed, or timed out): the
   * caller closes the Redis client only then, or the leave may never be sent and the share stays reserved for the
   * record's whole lifetime.
   */
  public Future<Void> stop() {
    stopped = true;
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
    }
    if (degraded == null && reported) {
      return leave.run(redis, List.of(rosterKey, detailsKey, putBackKey, leftKey), List.of(instanceId, Long.toString(lifetimeMs() * 1000L)))
        .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS).<Void>mapEmpty().otherwiseEmpty();
    }
    return Future.succeededFuture();
  }

  private long silenceMs() {
    return SILENT_HEARTBEATS * heartbeatMs;
  }

  /** How long after its last report an instance's record (and any reservation for it) lives. */
  private long lifetimeMs() {
    return silenceMs() + REDIS_TIMEOUT_MS + localGrantMs + periodMs + maxRequestMs;
  }

  /** How long a record put back by another instance holds grants: time for a reachable owner to restore. */
  private long holdMs() {
    return silenceMs() + REDIS_TIMEOUT_MS;
  }

  private void beat() {
    if (degraded != null) {
      // Probe with a command that changes nothing: an unanswered restore could have registered us (see restore()).
      redis.send(Request.cmd(Command.PING)).timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS).onSuccess(pong -> restore());
      return;
    }
    long sent = System.nanoTime();
    lastReportAttemptNanos = sent;
    int share = shareToReport();
    attemptedShare = share;
    heartbeat.run(redis, List.of(rosterKey, logKey, detailsKey, putBackKey, leftKey), List.of(instanceId, Integer.toString(share),
        Integer.toString(ownGrants().size()), Long.toString(lifetimeMs() * 1000L), Long.toString(periodMs * 1000L), reported ? "1" : "0",
        Integer.toString(limit)))
      .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .onSuccess(r -> {
        heartbeatTimeouts = 0;
        if (r.get(0).toInteger() < 0) {
          restore();
          return;
        }
        liveInstances = Math.max(1, r.get(0).toInteger());
        sharedUsed.set(r.get(1).toInteger());
        List<String> quads = new ArrayList<>(r.size() - 2);
        int recorded = share;
        for (int i = 2; i < r.size(); i++) {
          quads.add(r.get(i).toString());
          if ((i - 2) % 4 == 0 && instanceId.equals(r.get(i).toString())) {
            recorded = r.get(i + 2).toInteger();
          }
        }
        // The roster may record less than asked (what the others leave of the budget): that is the local share.
        reported(sent, recorded);
        roster = quads;
      })
      .onFailure(err -> {
        if (isConnectionLoss(err) || isTimeout(err) && ++heartbeatTimeouts >= HEARTBEAT_TIMEOUTS_TO_DEGRADE) {
          degrade(err);
        } else if (!isTimeout(err)) {
          commandError("heartbeat", err);
        }
      });
  }

  private synchronized void reported(long sentNanos, int share) {
    if (!reported || sentNanos - lastReportSentNanos > 0) {
      lastReportSentNanos = sentNanos;
    }
    reported = true;
    reportedShare = share;
  }

  /** The share this instance would take locally now: what it reports, and what the shared log then reserves. */
  private int shareToReport() {
    return limit / Math.max(1, liveInstances);
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
    Future<Void> pending = restoreInFlight();
    if (pending != null) {
      // Neither a local nor a shared grant while our grants are on their way back into the log.
      return pending.transform(ar -> ar.succeeded() ? acquireShared(lane, false) : Future.failedFuture(exhausted(heartbeatMs)));
    }
    Degraded local = degraded;
    if (local != null && reported) {
      return acquireLocally(local, lane);
    }
    // Connected, or cut off before a first report: then there is no local share to take and nothing of ours to restore,
    // so the shared log is asked at once (it registers us when Redis answers again, instead of a heartbeat later).
    return acquireShared(lane, true);
  }

  private Future<Permit> acquireShared(Lane lane, boolean mayRestore) {
    String member = instanceId + ":" + seq.incrementAndGet();
    return limiter.run(redis, List.of(logKey, blockedKey, rosterKey, detailsKey, firstSightKey, putBackKey),
        List.of(Integer.toString(limit), Long.toString(periodMs * 1000L), Integer.toString(shares.ceiling(lane, limit)), member,
          Integer.toString(shares.cap(lane, limit)), instanceId, Long.toString(silenceMs() * 1000L),
          Long.toString(lifetimeMs() * 1000L), Long.toString(holdMs() * 1000L), Long.toString((periodMs + maxRequestMs) * 1000L)))
      .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .transform(ar -> {
        if (ar.failed()) {
          Throwable cause = ar.cause();
          if (isConnectionLoss(cause)) {
            degrade(cause);
            Degraded fallback = degraded;
            return fallback == null ? Future.failedFuture(exhausted(REDIS_TIMEOUT_MS)) : acquireLocally(fallback, lane);
          }
          // A slow answer is not an outage (heartbeats decide about those), and a command error is not one at all:
          // deny this one call and keep to the shared log.
          if (!isTimeout(cause)) {
            commandError("limiter", cause);
          }
          return Future.failedFuture(exhausted(REDIS_TIMEOUT_MS));
        }
        Response r = ar.result();
        if (r.get(2).toInteger() == -2) {
          // Not in the roster (our first permit, or the shared state was lost), or our record there is older than our
          // last reports (this master lost them, and perhaps grants too): our grants go back in first.
          return mayRestore
            ? restore().transform(x -> x.succeeded() ? acquireShared(lane, false) : Future.failedFuture(exhausted(heartbeatMs)))
            : Future.failedFuture(exhausted(heartbeatMs));
        }
        return decide(lane, member, r);
      });
  }

  private Future<Permit> decide(Lane lane, String member, Response r) {
    boolean granted = r.get(0).toInteger() == 1;
    long waitMs = Math.max(1, (r.get(1).toLong() + 999) / 1000);
    int used = r.get(2).toInteger();
    if (granted) {
      sharedUsed.set(used);
      return Future.succeededFuture(remember(member));
    }
    if (used == -1) {
      // The shared back-off is set: another instance saw a 429. Adopt it locally too.
      noteBlocked(waitMs);
      return Future.failedFuture(rateLimited(waitMs));
    }
    noteDenied(lane, waitMs);
    return Future.failedFuture(exhausted(waitMs));
  }

  /**
   * A denial of one lane implies denials of the lanes whose ceilings are not higher: foreground denied means every
   * lane is; refresh denied means background and first-sight are (same or lower ceilings); first-sight may be
   * denied by its own share alone.
   */
  private void noteDenied(Lane lane, long waitMs) {
    long until = System.currentTimeMillis() + waitMs;
    synchronized (deniedUntilMs) {
      for (Lane l : Lane.values()) {
        boolean implied = l == lane || lane == Lane.FOREGROUND
          || lane == Lane.REFRESH && (l == Lane.BACKGROUND || l == Lane.FIRST_SIGHT);
        if (implied) {
          deniedUntilMs[l.ordinal()] = Math.max(deniedUntilMs[l.ordinal()], until);
        }
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

  private Future<Permit> acquireLocally(Degraded local, Lane lane) {
    if (!reported) {
      // In no roster: no share of ours is reserved anywhere, so anything granted here would come on top of the budget.
      return Future.failedFuture(exhausted(heartbeatMs));
    }
    long now = System.nanoTime();
    if (now - local.fromNanos < 0) {
      // The shared log does not count our local share yet: wait until it must.
      return Future.failedFuture(exhausted((local.fromNanos - now) / 1_000_000L + 1));
    }
    if (now - local.untilNanos >= 0) {
      // Our reservation in the shared log may lapse before another grant would leave the window: no more.
      return Future.failedFuture(exhausted(heartbeatMs));
    }
    return local.budget.acquire(lane).map(p -> remember(instanceId + ":local:" + seq.incrementAndGet()));
  }

  /** Remembers a granted permit for a later restore; settling it re-stamps it here and, when connected, in Redis. */
  private Permit remember(String member) {
    Grant g = new Grant(member, System.currentTimeMillis() * 1000L);
    synchronized (grants) {
      trimGrants();
      if (grants.size() >= REMEMBERED_GRANTS) {
        grants.pollFirst();
      }
      grants.addLast(g);
    }
    return () -> {
      g.atMicros = Math.max(g.atMicros, System.currentTimeMillis() * 1000L);
      if (degraded == null) {
        settle.run(redis, List.of(logKey, firstSightKey), List.of(member)).timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      }
    };
  }

  private void trimGrants() {
    long cutoff = (System.currentTimeMillis() - periodMs - maxRequestMs) * 1000L;
    while (!grants.isEmpty() && grants.peekFirst().atMicros < cutoff) {
      grants.pollFirst();
    }
  }

  /** Own permits of the last window (plus the longest request), oldest first. */
  List<Grant> ownGrants() {
    synchronized (grants) {
      trimGrants();
      return new ArrayList<>(grants);
    }
  }

  private synchronized void degrade(Throwable cause) {
    if (degraded != null || stopped) {
      return;
    }
    if (!reported) {
      // acquireLocally grants nothing before a first report: the Degraded state only drives the probes and restore.
      degraded = new Degraded(new LocalBudget(0, periodMs, shares), 0, 0);
      LOG.warn("redis unreachable for the shared {} budget ({}) before this instance first reported to it: no {}"
        + " calls until it has (no share of the budget is reserved for it)", name, cause.getClass().getSimpleName(), name);
      return;
    }
    int live = Math.max(1, liveInstances);
    int share = Math.min(reportedShare, attemptedShare);
    LocalBudget local = new LocalBudget(share, periodMs + maxRequestMs, shares);
    degraded = new Degraded(local, localGrantsFrom(lastReportAttemptNanos), lastReportSentNanos + localGrantMs * 1_000_000L);
    LOG.warn("redis unreachable for the shared {} budget ({}); limiting this instance to {} of {} calls per {} ms ({} instances),"
      + " starting {} ms after its last report", name, cause.getClass().getSimpleName(), share, limit, periodMs, live,
      silenceMs() + REDIS_TIMEOUT_MS + periodMs + maxRequestMs);
  }

  /**
   * The first moment a cut-off instance may grant itself a permit, given the last report it sent (answered or not).
   * The shared log counts its share as used from {@code silence} (+ the Redis timeout) after that report; before then
   * the others may have been granted the whole budget, and nothing tells this instance how much of it they took. Only
   * once every such permit has left the window (a window, plus the longest request: a permit is counted until its
   * request completed) does the log, reserving this instance's share, guarantee it room. It used to start at once
   * with {@code (budget - used) / instances} for the rest of the window, from a count read before those grants.
   */
  private long localGrantsFrom(long reportSentNanos) {
    return reportSentNanos + (silenceMs() + REDIS_TIMEOUT_MS + periodMs + maxRequestMs) * 1_000_000L;
  }

  /** Writes every remembered grant back and re-registers, in one script; at most one at a time. */
  synchronized Future<Void> restore() {
    if (restoring != null) {
      return restoring;
    }
    long sent = System.nanoTime();
    lastReportAttemptNanos = sent;
    int share = shareToReport();
    attemptedShare = share;
    List<Grant> mine = ownGrants();
    List<String> args = new ArrayList<>();
    args.add(instanceId);
    args.add(Integer.toString(share));
    args.add(Integer.toString(mine.size()));
    args.add(Long.toString(lifetimeMs() * 1000L));
    args.add(Integer.toString(limit));
    args.add(Integer.toString(mine.size()));
    for (Grant g : mine) {
      args.add(Long.toString(g.atMicros));
      args.add(g.member);
    }
    args.addAll(roster);
    Future<Void> run = restore.run(redis, List.of(logKey, rosterKey, detailsKey, putBackKey, leftKey), args)
      .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .transform(ar -> {
        synchronized (this) {
          restoring = null;
          if (ar.succeeded()) {
            heartbeatTimeouts = 0;
            reported(sent, ar.result().size() > 2 ? ar.result().get(2).toInteger() : share);
            if (degraded != null) {
              degraded = null;
              LOG.info("redis reachable again; {} own permits restored to the shared {} budget", mine.size(), name);
            }
            return Future.succeededFuture();
          }
        }
        // Not restored: the grants stay remembered (and, while degraded, counted locally) for the next attempt. An
        // unanswered restore may still have registered us (ending our reservation): no local grant until the shared
        // log would count our share again.
        synchronized (this) {
          Degraded d = degraded;
          if (d != null) {
            degraded = new Degraded(d.budget, Math.max(d.fromNanos, localGrantsFrom(sent)), d.untilNanos);
          }
        }
        if (isConnectionLoss(ar.cause())) {
          degrade(ar.cause());
        } else if (!isTimeout(ar.cause())) {
          commandError("restore", ar.cause());
        }
        return Future.failedFuture(ar.cause());
      });
    if (!run.isComplete()) {
      restoring = run;
    }
    return run;
  }

  private synchronized Future<Void> restoreInFlight() {
    return restoring;
  }

  private void commandError(String what, Throwable err) {
    if (stopped) {
      return;
    }
    long now = System.currentTimeMillis();
    boolean log;
    synchronized (this) {
      log = now - lastErrorLogMs >= ERROR_LOG_INTERVAL_MS;
      if (log) {
        lastErrorLogMs = now;
      }
    }
    if (log) {
      LOG.warn("redis refused the {} budget's {} ({}); denying the call, staying on the shared budget", name, what,
        RedisErrors.describe(err));
    }
  }

  /**
   * The Redis master was replaced while every connection stayed up (a Sentinel switch): the permits granted on the
   * old master in the moment before the switch reached it and may never reach the new one, and no lost connection will
   * make this instance restore them. Writes every remembered grant back, exactly as after an outage; grants the log
   * still holds keep their later stamp, so doing it more than once is harmless.
   */
  public Future<Void> masterMoved() {
    return stopped ? Future.succeededFuture() : restore();
  }

  /** Whether a report of this instance has reached the shared roster (it may then take shared permits). */
  public boolean isRegistered() {
    return reported;
  }

  /**
   * How many instances this one counted in the shared roster at its last heartbeat (the configured maximum until it
   * has seen one): what its local share is divided by if Redis becomes unreachable.
   */
  public int liveInstances() {
    return liveInstances;
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

  /**
   * Calls made in the current window by every instance, as the shared budget last said; NaN while it is unreachable
   * (unknown then: reporting this instance's local use instead read as an empty budget on a dashboard).
   */
  public double used() {
    return degraded != null ? Double.NaN : sharedUsed.get();
  }

  /** The calls per window this instance allows itself while the shared budget is unreachable; 0 while it is not. */
  public int localLimit() {
    Degraded local = degraded;
    return local != null ? local.budget.limit() : 0;
  }

  /** The calls this instance has made in its local window while the shared budget is unreachable; 0 while it is not. */
  public int localUsed() {
    Degraded local = degraded;
    return local != null ? local.budget.used() : 0;
  }

  public int limit() {
    return limit;
  }

  @Override
  public long blockedForMs() {
    return Math.max(0, blockedUntilMs - System.currentTimeMillis());
  }

  /** The connection is gone (refused, reset, closed): the only reason to limit ourselves locally. */
  static boolean isConnectionLoss(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ErrorType) {
        // The client reports a dropped connection as an error reply of its own; every other error reply is Redis's.
        return String.valueOf(c.getMessage()).startsWith("CONNECTION_CLOSED");
      }
      if (c instanceof ConnectException || c instanceof ClosedChannelException || c instanceof IOException) {
        return true;
      }
      String m = String.valueOf(c.getMessage()).toLowerCase();
      if (m.contains("connection") && (m.contains("closed") || m.contains("refused") || m.contains("reset"))
        || m.contains("failed to connect")) {
        return true;
      }
    }
    return false;
  }

  private static boolean isTimeout(Throwable t) {
    return t instanceof java.util.concurrent.TimeoutException || t instanceof io.vertx.core.impl.NoStackTraceTimeoutException
      || String.valueOf(t.getMessage()).toLowerCase().contains("timeout") || String.valueOf(t.getMessage()).toLowerCase().contains("timed out");
  }

  private static UpstreamException rateLimited(long ms) {
    return new UpstreamException(UpstreamException.Kind.RATE_LIMITED, "upstream asked us to back off", ms, 429);
  }

  /** The local fallback and when it may grant: from when the shared log counts its share, until it stops doing so. */
  private static final class Degraded {
    final LocalBudget budget;
    final long fromNanos;
    final long untilNanos;

    Degraded(LocalBudget budget, long fromNanos, long untilNanos) {
      this.budget = budget;
      this.fromNanos = fromNanos;
      this.untilNanos = untilNanos;
    }
  }

  /** One own permit: its member in the log and its latest stamp (grant, then completion), epoch microseconds. */
  static final class Grant {
    final String member;
    volatile long atMicros;

    Grant(String member, long atMicros) {
      this.member = member;
      this.atMicros = atMicros;
    }
  }
}
