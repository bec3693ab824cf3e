package dev.biogate.profile;

import dev.biogate.http.ApiException;
import dev.biogate.upstream.Lane;
import dev.biogate.upstream.LinktreeClient;
import dev.biogate.upstream.UpstreamException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
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
 * Resolves profiles that L1 cannot answer by itself. Concurrent callers for one username in this instance share one
 * resolution (single flight); across instances a short Redis lock lets one instance fetch while the others poll L2
 * for its copy. When the upstream fails, the last good copy is served for as long as stale-if-error allows;
 * without one, the caller gets a 503 with {@code Retry-After}. Redis trouble degrades to fetching without the lock,
 * never to failing the read.
 */
public final class ProfileService {

  private static final Logger LOG = LoggerFactory.getLogger(ProfileService.class);
  private static final long REVALIDATE_BACKOFF_MS = 5_000;

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
   * Applies a change announced with a complete payload to the held copy (L1, else L2) without an upstream call,
   * and publishes the result to L1 and L2. Completes with {@code false} when no copy is held: there is nothing to
   * update, and the next read fetches the current profile anyway.
   */
  public Future<Boolean> patch(String username, UnaryOperator<JsonObject> change) {
    upstream.admission().markKnown(username);
    CachedProfile held = l1.get(username);
    Future<CachedProfile> base = held != null ? Future.succeededFuture(held) : sharedCopy(username);
    return base.compose(copy -> {
      if (copy == null || !copy.found()) {
        return Future.succeededFuture(false);
      }
      JsonObject changed = change.apply(copy.document().copy());
      CachedProfile next = ProfileDocument.found(username, ProfileDocument.canonical(username, changed), now());
      return publish(next).map(true);
    });
  }

  /** Drops this instance's L1 copy (another instance published a newer one to L2). */
  public void invalidateLocal(String username) {
    l1.invalidate(username);
  }

  /** The username whose cached profile holds this link id, or {@code null} if no cached profile does. */
  public Future<String> ownerOfLink(String linkId) {
    return l2.ownerOfLink(linkId);
  }

  /** Fetches a fresh copy now (a webhook announced a change), bypassing L1 and L2 freshness. */
  public Future<Result> refresh(String username, Lane lane) {
    return singleFlight(username, null, lane, true);
  }

  private Future<Result> singleFlight(String username, CachedProfile held, Lane lane) {
    return singleFlight(username, held, lane, false);
  }

  private Future<Result> singleFlight(String username, CachedProfile held, Lane lane, boolean force) {
    Promise<Result> promise = Promise.promise();
    Future<Result> existing = inflight.putIfAbsent(username, promise.future());
    if (existing != null) {
      return existing;
    }
    Future<Result> work;
    try {
      work = force ? fetchUnderLock(username, newest(held, l1.get(username)), lane, now() + lockWaitMs)
        : fromSharedOrUpstream(username, held, lane);
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
    return sharedCopy(username).compose(shared -> {
      if (shared != null && freshness.of(shared, now()) == Freshness.State.FRESH
        && (held == null || shared.fetchedAtMs() > held.fetchedAtMs())) {
        l1.put(shared);
        return Future.succeededFuture(new Result(shared, Outcome.SHARED_HIT));
      }
      return fetchUnderLock(username, newest(held, shared), lane, now() + lockWaitMs);
    });
  }

  /** Takes the cluster-wide fetch lock and fetches, or waits for whoever holds it to publish a copy. */
  private Future<Result> fetchUnderLock(String username, CachedProfile best, Lane lane, long deadline) {
    long denied = upstream.budget().deniedForMs(lane);
    if (denied > 0) {
      // Known without a round trip: no permit for this lane yet. Don't take the lock only to give it back.
      return fallback(best, new UpstreamException(UpstreamException.Kind.BUDGET_EXHAUSTED, "upstream budget exhausted", denied, 0));
    }
    return l2.tryLock(username, owner, lockTtlMs)
      .otherwise(err -> {
        degraded(err);
        return Boolean.TRUE;
      })
      .compose(locked -> {
        if (locked) {
          return fetch(username, best, lane).eventually(() -> l2.unlock(username, owner).otherwiseEmpty());
        }
        return awaitPeer(username, best, lane, deadline);
      });
  }

  private Future<Result> awaitPeer(String username, CachedProfile best, Lane lane, long deadline) {
    if (now() >= deadline) {
      return fallback(best, new UpstreamException(UpstreamException.Kind.UNAVAILABLE, "another instance is still fetching", 1000, 0));
    }
    return vertx.timer(lockPollMs).compose(t -> sharedCopy(username)).compose(shared -> {
      if (shared != null && (best == null || shared.fetchedAtMs() > best.fetchedAtMs())
        && freshness.of(shared, now()) != Freshness.State.EXPIRED) {
        l1.put(shared);
        return Future.succeededFuture(new Result(shared, Outcome.MISS));
      }
      return fetchUnderLock(username, best, lane, deadline);
    });
  }

  private Future<Result> fetch(String username, CachedProfile best, Lane lane) {
    return upstream.fetchProfile(username, lane)
      .map(json -> ProfileDocument.found(username, ProfileDocument.canonical(username, json), now()))
      .recover(err -> err instanceof UpstreamException && ((UpstreamException) err).kind() == UpstreamException.Kind.NOT_FOUND
        ? Future.succeededFuture(ProfileDocument.notFound(username, now()))
        : Future.failedFuture(err))
      .compose(copy -> publish(copy).map(v -> new Result(copy, Outcome.MISS)))
      .recover(err -> fallback(best, err));
  }

  /** Makes a new copy visible: L1 at once, L2 before the lock is released so waiting instances find it. */
  private Future<Void> publish(CachedProfile copy) {
    l1.put(copy);
    return l2.put(copy, now()).otherwise(err -> {
      degraded(err);
      return null;
    });
  }

  /** Stale-if-error: the last good copy if it may still be served, else a 503 telling the client when to retry. */
  private Future<Result> fallback(CachedProfile best, Throwable err) {
    if (best != null && best.found() && freshness.of(best, now()) != Freshness.State.EXPIRED) {
      return Future.succeededFuture(new Result(best, Outcome.STALE_IF_ERROR));
    }
    if (!(err instanceof UpstreamException)) {
      return Future.failedFuture(err);
    }
    UpstreamException ue = (UpstreamException) err;
    long retryAfter = ue.retryAfterMs() > 0 ? ue.retryAfterMs() : 5_000;
    String message;
    switch (ue.kind()) {
      case CIRCUIT_OPEN: message = "the profile upstream is failing; no cached copy to serve"; break;
      case RATE_LIMITED:
      case BUDGET_EXHAUSTED: message = "the upstream request budget is spent; no cached copy to serve"; break;
      case AUTH: message = "the gateway cannot authenticate to the profile upstream"; break;
      default: message = "the profile upstream is unavailable; no cached copy to serve";
    }
    return Future.failedFuture(new ApiException(503, "upstream_unavailable", message, ApiException.seconds(retryAfter)));
  }

  private Future<CachedProfile> sharedCopy(String username) {
    return l2.get(username).map(c -> {
      if (redisDegraded.compareAndSet(true, false)) {
        LOG.info("redis reachable again; shared profile cache restored");
      }
      return c;
    }).otherwise(err -> {
      degraded(err);
      return null;
    });
  }

  private void degraded(Throwable err) {
    if (redisDegraded.compareAndSet(false, true)) {
      LOG.warn("redis unavailable for the shared profile cache ({}); serving from L1 and fetching without the cluster lock",
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
    return b.fetchedAtMs() > a.fetchedAtMs() ? b : a;
  }
}
