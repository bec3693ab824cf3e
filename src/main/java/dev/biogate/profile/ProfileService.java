package dev.biogate.profile;

import dev.biogate.upstream.Lane;
import dev.biogate.upstream.LinktreeClient;
import dev.biogate.upstream.UpstreamException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

/**
 * Resolves profiles that L1 cannot answer by itself, and changes shared copies when webhooks announce changes.
 * Concurrent callers for one username in this instance share one resolution (single flight); across instances a
 * short Redis lock lets one instance fetch while the others poll L2 for its copy. Every write of a shared copy is
 * versioned ({@link ProfileStore}): a fetch that began before a change can never publish over it, whichever lock
 * anyone holds. When the upstream fails, the last good copy is served for as long as stale-if-error allows; without
 * one, the caller gets a {@link ProfileFailure}. While Redis is unreachable, held copies are served rather than
 * fetched (the upstream budget cannot be coordinated); only what nothing holds is fetched, once per instance.
 */
public final class ProfileService {

  private static final Logger LOG = LoggerFactory.getLogger(ProfileService.class);
  private static final long REVALIDATE_BACKOFF_MS = 5_000;
  /** Patches retried at once when another write to the same profile slipped in between read and write. */
  private static final int PATCH_ATTEMPTS = 5;
  /** The version a fetch publishes against when Redis could not be read: kept in L1 only, never written to L2. */
  private static final long UNKNOWN_VERSION = -1;

  /** How a resolved copy reached the caller (fresh and stale L1 hits never get here: the handler serves them). */
  public enum Outcome { SHARED_HIT, MISS, STALE_IF_ERROR }

  /** A resolved copy and how it was obtained. */
  public static final class Result {
    public final CachedProfile profile;
    public final Outcome outcome;

    Result(CachedProfile profile, Outcome outcome) {
      this.profile = profile;
      this.outcome = outcome;
    }
  }

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
  private final Map<String, Future<Result>> inflight = new ConcurrentHashMap<>();
  private final Map<String, Long> revalidateBackoff = new ConcurrentHashMap<>();
  private final AtomicBoolean redisDegraded = new AtomicBoolean();

  public ProfileService(Vertx vertx, ProfileCache l1, ProfileStore l2, LinktreeClient upstream, Freshness freshness,
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

  public ProfileCache cache() {
    return l1;
  }

  public Freshness freshness() {
    return freshness;
  }

  public long now() {
    return clock.getAsLong();
  }

  /**
   * A servable copy for the colder read paths (links pages, redirects): L1 when fresh or stale (refreshing in the
   * background), else resolved like a profile read. A remembered 404 is returned as such; callers check
   * {@link CachedProfile#found()}.
   */
  public Future<CachedProfile> lookup(String username) {
    CachedProfile held = l1.get(username);
    if (held != null) {
      Freshness.State state = freshness.of(held, now());
      if (state == Freshness.State.FRESH) {
        return Future.succeededFuture(held);
      }
      if (state == Freshness.State.STALE) {
        revalidate(username, held);
        return Future.succeededFuture(held);
      }
    }
    return resolve(username, held).map(r -> r.profile);
  }

  /** Resolves a read L1 could not serve; {@code held} is L1's unusable copy, if any. */
  public Future<Result> resolve(String username, CachedProfile held) {
    Lane lane = held != null && held.found() && freshness.of(held, now()) != Freshness.State.EXPIRED ? Lane.REFRESH : Lane.FOREGROUND;
    return singleFlight(username, held, lane);
  }

  /**
   * Stale-while-revalidate: refresh in the background, at most one at a time per profile, and not again for a while
   * after a failed attempt. Called from the hot path only for stale copies.
   */
  public void revalidate(String username, CachedProfile held) {
    if (inflight.containsKey(username)) {
      return;
    }
    Long until = revalidateBackoff.get(username);
    if (until != null && until > now()) {
      return;
    }
    singleFlight(username, held, Lane.BACKGROUND).onComplete(ar -> {
      if (ar.failed() || ar.result().outcome == Outcome.STALE_IF_ERROR) {
        revalidateBackoff.put(username, now() + REVALIDATE_BACKOFF_MS);
      } else {
        revalidateBackoff.remove(username);
      }
    });
  }

  /**
   * Applies a change announced with a complete payload to the shared copy, without an upstream call: reads the copy
   * with its version, changes it, and writes it back only if no other write happened in between (else reads again).
   * With no copy to change, leaves a tombstone instead: a fetch already in flight cannot publish its older copy over
   * it, and the next read fetches the current profile. Completes with whether a copy was changed; every instance's
   * older L1 copy is dropped either way.
   */
  public Future<Boolean> patch(String username, UnaryOperator<JsonObject> change) {
    return patch(username, change, PATCH_ATTEMPTS);
  }

  private Future<Boolean> patch(String username, UnaryOperator<JsonObject> change, int attempts) {
    return l2.get(username).compose(shared -> {
      CachedProfile copy = shared.copy();
      if (copy == null || !copy.found()) {
        return purge(username).map(false);
      }
      JsonObject changed = change.apply(copy.document().copy());
      CachedProfile next = ProfileDocument.found(username, ProfileDocument.canonical(username, changed), now());
      return l2.put(ProfileStore.Write.PATCH, next, shared.version(), now()).compose(stored -> {
        if (stored != null) {
          l1.put(stored);
          return Future.succeededFuture(true);
        }
        return attempts > 1 ? patch(username, change, attempts - 1)
          : Future.failedFuture(new VertxException("the profile kept changing while it was patched", true));
      });
    });
  }

  /**
   * Drops every copy of {@code username}: the shared one (leaving a tombstone no older fetch can beat), this
   * instance's L1 copy, and (by the write's invalidation) every other instance's.
   */
  public Future<Void> purge(String username) {
    l1.invalidate(username);
    return l2.purge(username).map(version -> {
      l1.invalidate(username, version);
      return null;
    });
  }

  /** Another instance's write made {@code version}: drops this instance's older L1 copy. */
  public void invalidateLocal(String username, long version) {
    l1.invalidate(username, version);
  }

  /** The username whose cached profile holds this link id, or {@code null} if no cached profile does. */
  public Future<String> ownerOfLink(String linkId) {
    return l2.ownerOfLink(linkId);
  }

  /** Whether this instance is resolving {@code username} now (a read's fetch is in flight). */
  boolean resolving(String username) {
    return inflight.containsKey(username);
  }

  private Future<Result> singleFlight(String username, CachedProfile held, Lane lane) {
    Promise<Result> promise = Promise.promise();
    Future<Result> existing = inflight.putIfAbsent(username, promise.future());
    if (existing != null) {
      return existing;
    }
    Future<Result> work;
    try {
      work = fromSharedOrUpstream(username, held, lane);
    } catch (RuntimeException e) {
      work = Future.failedFuture(e);
    }
    work.onComplete(ar -> {
      inflight.remove(username, promise.future());
      promise.handle(ar);
    });
    return promise.future();
  }

  private Future<Result> fromSharedOrUpstream(String username, CachedProfile held, Lane lane) {
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
      return fetchUnderLock(username, newest(held, shared), lane, now() + lockWaitMs);
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
        // An error is not a lock: nobody knows who holds it, so nothing is coordinated. Serve what is held.
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
      if (shared != null && (best == null || shared.newerThan(best)) && freshness.of(shared, now()) != Freshness.State.EXPIRED) {
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
      return Future.succeededFuture(new Result(best, Outcome.STALE_IF_ERROR));
    }
    return fetch(username, best, lane, UNKNOWN_VERSION);
  }

  /**
   * Fetches and publishes through the versioned write: refused if the profile changed (a webhook) since
   * {@code readVersion} was read, before the upstream call. A refused copy is not cached; the callers get the newer
   * shared copy if there is one, else the fetched copy (their reads began before the change).
   */
  private Future<Result> fetch(String username, CachedProfile best, Lane lane, long readVersion) {
    return upstream.fetchProfile(username, lane)
      .map(json -> ProfileDocument.found(username, ProfileDocument.canonical(username, json), now()))
      .recover(err -> err instanceof UpstreamException && ((UpstreamException) err).kind() == UpstreamException.Kind.NOT_FOUND
        ? Future.succeededFuture(ProfileDocument.notFound(username, now()))
        : Future.failedFuture(err))
      .transform(ar -> ar.failed() ? fallback(best, ar.cause()) : publish(ar.result(), readVersion));
  }

  private Future<Result> publish(CachedProfile copy, long readVersion) {
    if (readVersion == UNKNOWN_VERSION) {
      l1.put(copy);
      return Future.succeededFuture(new Result(copy, Outcome.MISS));
    }
    return l2.put(ProfileStore.Write.FETCH, copy, readVersion, now()).transform(ar -> {
      if (ar.failed()) {
        degraded(ar.cause());
        l1.put(copy);
        return Future.succeededFuture(new Result(copy, Outcome.MISS));
      }
      if (ar.result() != null) {
        l1.put(ar.result());
        return Future.succeededFuture(new Result(ar.result(), Outcome.MISS));
      }
      return l2.get(copy.username()).map(now -> {
        CachedProfile newer = now.copy();
        if (newer != null && freshness.of(newer, now()) != Freshness.State.EXPIRED) {
          l1.put(newer);
          return new Result(newer, Outcome.SHARED_HIT);
        }
        return new Result(copy, Outcome.MISS);
      }).otherwise(new Result(copy, Outcome.MISS));
    });
  }

  /** Stale-if-error: the last good copy if it may still be served, else the domain failure. */
  private Future<Result> fallback(CachedProfile best, Throwable err) {
    if (servable(best)) {
      return Future.succeededFuture(new Result(best, Outcome.STALE_IF_ERROR));
    }
    return Future.failedFuture(err instanceof UpstreamException ? ProfileFailure.of((UpstreamException) err) : err);
  }

  private boolean servable(CachedProfile p) {
    return p != null && p.found() && freshness.of(p, now()) != Freshness.State.EXPIRED;
  }

  private boolean freshAndNewer(CachedProfile shared, CachedProfile held) {
    return shared != null && freshness.of(shared, now()) == Freshness.State.FRESH && (held == null || shared.newerThan(held));
  }

  private void reachable() {
    if (redisDegraded.compareAndSet(true, false)) {
      LOG.info("redis reachable again; shared profile cache restored");
    }
  }

  private void degraded(Throwable err) {
    if (redisDegraded.compareAndSet(false, true)) {
      LOG.warn("redis unavailable for the shared profile cache ({}); serving held copies, fetching only what nothing holds",
        err.getClass().getSimpleName());
    }
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
