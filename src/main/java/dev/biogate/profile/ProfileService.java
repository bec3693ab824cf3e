package dev.biogate.profile;

import dev.biogate.upstream.Lane;
import dev.biogate.upstream.LinktreeClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

/**
 * Resolves profiles that L1 cannot answer by itself, and changes shared copies when webhooks announce changes.
 * Concurrent callers for one username in this instance share one resolution (single flight), which
 * {@link SharedFetch} carries out across instances. Every write of a shared copy is versioned
 * ({@link ProfileStore}): a fetch that began before a change can never publish over it. Failures are
 * {@link ProfileFailure}s; handlers answer them through {@link ProfileErrors}.
 */
public final class ProfileService {

  private static final long REVALIDATE_BACKOFF_MS = 5_000;
  /** Patches retried at once when another write to the same profile slipped in between read and write. */
  private static final int PATCH_ATTEMPTS = 5;

  /** How a resolved copy reached the caller (fresh and stale L1 hits never get here: the handler serves them). */
  public enum Outcome { SHARED_HIT, SHARED_STALE, MISS, STALE_IF_ERROR }

  /** A resolved copy and how it was obtained. */
  public static final class Result {
    public final CachedProfile profile;
    public final Outcome outcome;

    Result(CachedProfile profile, Outcome outcome) {
      this.profile = profile;
      this.outcome = outcome;
    }
  }

  private final ProfileCache l1;
  private final ProfileStore l2;
  private final Freshness freshness;
  private final LongSupplier clock;
  private final SharedFetch fetcher;
  private final LinktreeClient upstream;
  private final Map<String, Future<Result>> inflight = new ConcurrentHashMap<>();
  private final Map<String, Long> revalidateBackoff = new ConcurrentHashMap<>();

  public ProfileService(Vertx vertx, ProfileCache l1, ProfileStore l2, LinktreeClient upstream, Freshness freshness,
                        LongSupplier clock, long lockTtlMs, long lockWaitMs, long lockPollMs) {
    this.l1 = l1;
    this.l2 = l2;
    this.freshness = freshness;
    this.clock = clock;
    this.upstream = upstream;
    this.fetcher = new SharedFetch(vertx, l1, l2, upstream, freshness, clock, lockTtlMs, lockWaitMs, lockPollMs);
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
    upstream.admission().markKnown(username);
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
      work = fetcher.resolve(username, held, lane);
    } catch (RuntimeException e) {
      work = Future.failedFuture(e);
    }
    work.onComplete(ar -> {
      inflight.remove(username, promise.future());
      promise.handle(ar);
      if (ar.succeeded() && ar.result().outcome == Outcome.SHARED_STALE) {
        revalidate(username, ar.result().profile);
      }
    });
    return promise.future();
  }
}
