package dev.biogate.profile;

import dev.biogate.redis.OutageLog;
import dev.biogate.redis.RedisErrors;
import dev.biogate.profile.ProfileService.Outcome;
import dev.biogate.profile.ProfileService.Result;
import dev.biogate.upstream.Lane;
import dev.biogate.upstream.LinktreeClient;
import dev.biogate.upstream.UpstreamException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * One resolution of a profile L1 could not serve, across instances: a fresh shared copy if L2 has one, or a stale
 * one (within stale-while-revalidate, served while the caller refreshes it in the background); else the
 * cluster-wide fetch lock, L2 read again under it (the previous holder may just have published), and one upstream
 * fetch published through the versioned write; or, when another instance holds the lock, its copy awaited in L2.
 * <p>
 * When the upstream fails, the last good copy is served for as long as stale-if-error allows, and kept in L1 (so an
 * instance serves again from memory what it served from L2, should Redis fail next); without one, the resolution
 * fails with a {@link ProfileFailure}. A Redis error is never taken for the lock: while Redis is
 * unreachable the upstream budget cannot be coordinated, so held copies are served rather than fetched, and only
 * what nothing holds is fetched (once per instance, by the caller's single flight) and kept in L1 alone; once Redis
 * takes writes again, such copies are written to L2 if nothing was written there for the profile meanwhile
 * ({@link #shareBack}), so that other instances read them instead of fetching them again; and so are the copies L2
 * lost while this instance held them (Redis came back empty: {@link #shareLost}).
 */
final class SharedFetch {

  private static final Logger LOG = LoggerFactory.getLogger(SharedFetch.class);
  /** The version a fetch publishes against when Redis could not be read: kept in L1 only, never written to L2. */
  private static final long UNKNOWN_VERSION = -1;
  /** How many profiles L2 lacks are remembered for {@link #shareBack}, how many go per round, how often. */
  private static final int MAX_UNSHARED = 10_000;
  private static final int SHARE_BACK_BATCH = 64;
  private static final long SHARE_BACK_MS = 1_000;

  private final Vertx vertx;
  private final ProfileCache l1;
  private final ProfileStore l2;
  private final LinktreeClient upstream;
  private final Freshness freshness;
  private final LongSupplier clock;
  private final long lockTtlMs;
  private final long lockWaitMs;
  private final long lockPollMs;
  private final String owner = UUID.randomUUID().toString();
  /** Redis going away and coming back, one pair of lines per interval however often it flips (a failover). */
  private final OutageLog redisOutages = new OutageLog(LOG);
  /**
   * Profiles whose L1 copy L2 lacks (fetched while Redis could not take it, or lost with Redis's data), with that
   * copy's version (at most {@value #MAX_UNSHARED}): see {@link #shareBack}.
   */
  private final Map<String, Long> unshared = new ConcurrentHashMap<>();
  private final AtomicBoolean shareBackDue = new AtomicBoolean();
  private volatile boolean stopped;

  SharedFetch(Vertx vertx, ProfileCache l1, ProfileStore l2, LinktreeClient upstream, Freshness freshness,
              LongSupplier clock, long lockTtlMs, long lockWaitMs, long lockPollMs) {
    this.vertx = vertx;
    this.l1 = l1;
    this.l2 = l2;
    this.upstream = upstream;
    this.freshness = freshness;
    this.clock = clock;
    this.lockTtlMs = lockTtlMs;
    this.lockWaitMs = lockWaitMs;
    this.lockPollMs = lockPollMs;
  }

  /** Resolves {@code username}; {@code held} is L1's unusable copy, if any. Called once per single flight. */
  Future<Result> resolve(String username, CachedProfile held, Lane lane) {
    return l2.get(username).transform(ar -> {
      if (ar.failed()) {
        return withoutRedis(username, held, lane, ar.cause());
      }
      reachable();
      CachedProfile shared = ar.result().copy();
      if (freshAndNewer(shared, held)) {
        l1.put(shared);
        return Future.succeededFuture(new Result(shared, Outcome.SHARED_HIT));
      }
      if (staleAndNewer(shared, held)) {
        // Servable while it is refreshed, here as in L1: the caller starts the background refresh.
        l1.put(shared);
        return Future.succeededFuture(new Result(shared, Outcome.SHARED_STALE));
      }
      CachedProfile best = newest(held, shared);
      if (best != held && servable(best)) {
        // Held in L1 from now on: a reader of it waits for the upstream only so long (ProfileService.resolve).
        l1.put(best);
      }
      return fetchUnderLock(username, best, lane, now() + lockWaitMs);
    });
  }

  /**
   * The shared copy as a {@link Outcome#SHARED_HIT} if it is fresh and newer than {@code held} (and now in L1), else
   * {@code null}, also when Redis could not be read. One L2 read: no lock, no upstream call.
   */
  Future<Result> sharedIfFresh(String username, CachedProfile held) {
    return l2.get(username).transform(ar -> {
      CachedProfile shared = ar.succeeded() ? ar.result().copy() : null;
      if (!freshAndNewer(shared, held)) {
        return Future.succeededFuture(null);
      }
      l1.put(shared);
      return Future.succeededFuture(new Result(shared, Outcome.SHARED_HIT));
    });
  }

  /**
   * Takes the cluster-wide fetch lock, re-reads L2 (the previous holder may have published a copy since this
   * instance last looked) and fetches only if it has not; or waits for whoever holds the lock to publish a copy.
   */
  private Future<Result> fetchUnderLock(String username, CachedProfile best, Lane lane, long deadline) {
    long denied = upstream.budget().deniedForMs(lane);
    if (denied > 0) {
      // Known without a round trip: no permit for this lane yet. Don't take the lock only to give it back.
      return fallback(best, new UpstreamException(UpstreamException.Kind.BUDGET_EXHAUSTED, "upstream budget exhausted", denied, 0));
    }
    return l2.tryLock(username, owner, lockTtlMs).transform(ar -> {
      if (ar.failed()) {
        // An error is not a lock: nobody knows who holds it, so nothing is coordinated. Serve what is held. A lock
        // attempt that timed out may still have been applied: give it back rather than make others wait its TTL.
        l2.unlock(username, owner);
        return withoutRedis(username, best, lane, ar.cause());
      }
      if (!ar.result()) {
        return awaitPeer(username, best, lane, deadline);
      }
      return l2.get(username).transform(reread -> {
        if (reread.failed()) {
          return withoutRedis(username, best, lane, reread.cause());
        }
        CachedProfile shared = reread.result().copy();
        if (freshAndNewer(shared, best)) {
          l1.put(shared);
          return Future.succeededFuture(new Result(shared, Outcome.SHARED_HIT));
        }
        return fetch(username, newest(best, shared), lane, reread.result().version());
      }).eventually(() -> l2.unlock(username, owner).otherwiseEmpty());
    });
  }

  private Future<Result> awaitPeer(String username, CachedProfile best, Lane lane, long deadline) {
    if (now() >= deadline) {
      return fallback(best, new UpstreamException(UpstreamException.Kind.UNAVAILABLE, "another instance is still fetching", 1000, 0));
    }
    return vertx.timer(lockPollMs).compose(t -> l2.get(username)).transform(ar -> {
      if (ar.failed()) {
        return withoutRedis(username, best, lane, ar.cause());
      }
      CachedProfile shared = ar.result().copy();
      if (shared != null && (best == null || shared.newerThan(best)) && usable(shared)) {
        l1.put(shared);
        return Future.succeededFuture(new Result(shared, Outcome.MISS));
      }
      return fetchUnderLock(username, best, lane, deadline);
    });
  }

  /**
   * Redis is unreachable (or failed this call): the upstream budget and the fetch lock cannot be coordinated, so a
   * held copy that may still be served is served. Only a profile this instance holds nothing usable for is fetched,
   * once per instance (the single flight), and kept in L1 alone.
   */
  private Future<Result> withoutRedis(String username, CachedProfile best, Lane lane, Throwable err) {
    degraded(err);
    if (servable(best)) {
      return staleIfError(best);
    }
    return fetch(username, best, lane, UNKNOWN_VERSION);
  }

  /**
   * Fetches and publishes through the versioned write: refused if the profile changed (a webhook) since
   * {@code readVersion} was read, before the upstream call. A refused copy is not cached; the callers get the newer
   * shared copy if there is one, else the fetched copy (their reads began before the change).
   */
  private Future<Result> fetch(String username, CachedProfile best, Lane lane, long readVersion) {
    // The version read before the call: a walk of the link pages kept from an earlier fetch is resumed only while the
    // shared copy is still that version (no change written since).
    return upstream.fetchProfile(username, lane, readVersion == UNKNOWN_VERSION ? LinktreeClient.NO_VERSION : readVersion)
      .map(json -> ProfileDocument.found(username, ProfileDocument.canonical(username, json), now()))
      .recover(err -> err instanceof UpstreamException && ((UpstreamException) err).kind() == UpstreamException.Kind.NOT_FOUND
        ? Future.succeededFuture(ProfileDocument.notFound(username, now()))
        : Future.failedFuture(err))
      .transform(ar -> ar.failed() ? fallback(best, ar.cause()) : publish(ar.result(), readVersion));
  }

  private Future<Result> publish(CachedProfile copy, long readVersion) {
    if (readVersion == UNKNOWN_VERSION) {
      l1.put(copy);
      unshared(copy);
      return Future.succeededFuture(new Result(copy, Outcome.MISS));
    }
    return l2.put(ProfileStore.Write.FETCH, copy, readVersion, now()).transform(ar -> {
      if (ar.failed()) {
        degraded(ar.cause());
        l1.put(copy);
        unshared(copy);
        return Future.succeededFuture(new Result(copy, Outcome.MISS));
      }
      if (ar.result() != null) {
        l1.put(ar.result());
        return Future.succeededFuture(new Result(ar.result(), Outcome.MISS));
      }
      return l2.get(copy.username()).map(current -> {
        CachedProfile newer = current.copy();
        if (newer != null && usable(newer)) {
          l1.put(newer);
          return new Result(newer, Outcome.SHARED_HIT);
        }
        return new Result(copy, Outcome.MISS);
      }).otherwise(new Result(copy, Outcome.MISS));
    });
  }

  /** Remembers a found profile whose fetched copy L2 could not take, and has it written back once Redis can. */
  private void unshared(CachedProfile copy) {
    if (copy.found() && (unshared.size() < MAX_UNSHARED || unshared.containsKey(copy.username()))) {
      unshared.put(copy.username(), copy.version());
      scheduleShareBack();
    }
  }

  /**
   * L2 has no version for a profile whose copy, held here, came from it ({@code copy.version() > 0}): Redis lost its
   * data (restarted empty, or flushed). The copy is written back like one fetched while Redis was down, unless
   * something is written there first, so that other instances read it instead of fetching it again.
   */
  void shareLost(CachedProfile copy) {
    if (copy.version() > 0 && !copy.outdated()) {
      unshared(copy);
    }
  }

  void stop() {
    stopped = true;
  }

  private void scheduleShareBack() {
    if (!stopped && shareBackDue.compareAndSet(false, true)) {
      vertx.setTimer(SHARE_BACK_MS, t -> shareBack());
    }
  }

  /**
   * Writes the copies L2 lacks (fetched while Redis could not take them, or lost with its data) to L2,
   * {@value #SHARE_BACK_BATCH} at a time, each only if nothing was written there for its profile since Redis had it
   * last (the versioned write against version 0: a copy, a webhook's change or a tombstone written since wins). A copy
   * L1 no longer holds, or holds outdated, replaced or past stale-while-revalidate, is forgotten; while Redis still
   * fails, the rest waits for the next round a second later.
   */
  private void shareBack() {
    if (stopped) {
      return;
    }
    List<String> batch = new ArrayList<>(SHARE_BACK_BATCH);
    for (Iterator<String> it = unshared.keySet().iterator(); it.hasNext() && batch.size() < SHARE_BACK_BATCH; ) {
      batch.add(it.next());
    }
    List<Future<Boolean>> writes = new ArrayList<>(batch.size());
    for (String username : batch) {
      CachedProfile copy = l1.get(username);
      Long remembered = unshared.get(username);
      if (copy == null || !copy.found() || copy.outdated() || remembered == null || copy.version() != remembered || !usable(copy)) {
        unshared.remove(username);
        continue;
      }
      writes.add(l2.put(ProfileStore.Write.FETCH, copy, 0, now()).map(stored -> {
        // Only the copy this round wrote: another remembered meanwhile (a newer fetch without Redis) waits its turn.
        unshared.remove(username, remembered);
        if (stored != null) {
          l1.put(stored);
        }
        return stored != null;
      }));
    }
    Future.join(writes).onComplete(ar -> {
      long written = writes.stream().filter(w -> w.succeeded() && w.result()).count();
      if (written > 0) {
        LOG.info("wrote {} profile copies the shared cache lacked (fetched while redis was unreachable, or lost with its"
          + " data) to it", written);
      }
      shareBackDue.set(false);
      if (!unshared.isEmpty()) {
        scheduleShareBack();
      }
    });
  }

  /** Stale-if-error: the last good copy if it may still be served, else the domain failure. */
  private Future<Result> fallback(CachedProfile best, Throwable err) {
    if (servable(best)) {
      return staleIfError(best);
    }
    return Future.failedFuture(err instanceof UpstreamException ? ProfileFailure.of((UpstreamException) err) : err);
  }

  /**
   * Serves the last good copy, and keeps it in L1 (where it may have come from L2): what this instance served it can
   * serve again from memory if Redis fails next.
   */
  private Future<Result> staleIfError(CachedProfile best) {
    l1.put(best);
    return Future.succeededFuture(new Result(best, Outcome.STALE_IF_ERROR));
  }

  private boolean servable(CachedProfile p) {
    return p != null && p.found() && freshness.of(p, now()) != Freshness.State.EXPIRED;
  }

  /** A copy that may be served without asking the upstream first (fresh, or stale while it is refreshed). */
  private boolean usable(CachedProfile p) {
    Freshness.State state = freshness.of(p, now());
    return state == Freshness.State.FRESH || state == Freshness.State.STALE;
  }

  private boolean staleAndNewer(CachedProfile shared, CachedProfile held) {
    return shared != null && freshness.of(shared, now()) == Freshness.State.STALE && (held == null || shared.newerThan(held));
  }

  private boolean freshAndNewer(CachedProfile shared, CachedProfile held) {
    return shared != null && freshness.of(shared, now()) == Freshness.State.FRESH && (held == null || shared.newerThan(held));
  }

  private void reachable() {
    redisOutages.up("redis reachable again; shared profile cache restored");
  }

  private void degraded(Throwable err) {
    redisOutages.down(System.currentTimeMillis(), "redis unavailable for the shared profile cache ({}); serving held"
      + " copies, fetching only what nothing holds", RedisErrors.describe(err));
  }

  private long now() {
    return clock.getAsLong();
  }

  private static CachedProfile newest(CachedProfile a, CachedProfile b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return b.newerThan(a) ? b : a;
  }
}
