package dev.biogate.profile;

import dev.biogate.upstream.Lane;
import dev.biogate.upstream.LinktreeClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
  /** The longest pause before the first write again after a lost race; it doubles with each one after. */
  private static final long CONTENTION_PAUSE_MS = 4;
  /** Versions read at once when held copies are checked against L2 ({@link #reconcile}). */
  private static final int RECONCILE_BATCH = 64;

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

  private final Vertx vertx;
  /** How long a reader holding a copy stale-if-error may serve waits for its resolution ({@code staleIfSlowMs}). */
  private final long staleIfSlowMs;
  private final ProfileCache l1;
  private final ProfileStore l2;
  private final Freshness freshness;
  private final LongSupplier clock;
  private final SharedFetch fetcher;
  private final LinktreeClient upstream;
  private final Map<String, Future<Result>> inflight = new ConcurrentHashMap<>();
  /** L2 reads started by an invalidation heard while a resolution was in flight (see {@link #invalidateLocal}). */
  private final Map<String, Future<Result>> peeks = new ConcurrentHashMap<>();
  private final Map<String, Long> revalidateBackoff = new ConcurrentHashMap<>();

  public ProfileService(Vertx vertx, ProfileCache l1, ProfileStore l2, LinktreeClient upstream, Freshness freshness,
                        LongSupplier clock, long lockTtlMs, long lockWaitMs, long lockPollMs, long staleIfSlowMs) {
    this.vertx = vertx;
    this.staleIfSlowMs = staleIfSlowMs;
    this.l1 = l1;
    this.l2 = l2;
    this.freshness = freshness;
    this.clock = clock;
    this.upstream = upstream;
    this.fetcher = new SharedFetch(vertx, l1, l2, upstream, freshness, clock, lockTtlMs, lockWaitMs, lockPollMs);
  }

  /** Nothing more is written back to the shared cache in the background (the gateway is stopping). */
  public void stop() {
    fetcher.stop();
  }

  public ProfileCache cache() {
    return l1;
  }

  public Vertx vertx() {
    return vertx;
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

  /**
   * Resolves a read L1 could not serve; {@code held} is L1's unusable copy, if any. A reader whose copy (or one the
   * resolution has since found in L2) may be served stale-if-error waits at most {@code cache.staleIfSlowMs} for the
   * resolution, then gets that copy; the resolution goes on and its copy is served next. A slow upstream (three
   * attempts of 10 s) used to hold such readers for 30 s, only to serve them that same copy. A resolution that fails
   * answers such a reader with that copy too, whoever started the resolution.
   */
  public Future<Result> resolve(String username, CachedProfile held) {
    Future<Result> resolution = resolveNow(username, held);
    if (staleIfSlowMs <= 0 || resolution.isComplete()) {
      return resolution.recover(err -> lastGood(username, held, err));
    }
    Promise<Result> answer = Promise.promise();
    long timer = vertx.setTimer(staleIfSlowMs, t -> {
      CachedProfile copy = l1.get(username);
      Freshness.State state = copy == null || !copy.found() ? Freshness.State.EXPIRED : freshness.of(copy, now());
      if (state != Freshness.State.EXPIRED) {
        // Usually the held copy, past stale-while-revalidate; one a peer's change put there since may be fresher.
        answer.tryComplete(new Result(copy, state == Freshness.State.FRESH ? Outcome.SHARED_HIT
          : state == Freshness.State.STALE ? Outcome.SHARED_STALE : Outcome.STALE_IF_ERROR));
      }
    });
    resolution.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        answer.tryComplete(ar.result());
      } else {
        lastGood(username, held, ar.cause()).onComplete(answer);
      }
    });
    return answer.future();
  }

  /**
   * A resolution failed: stale-if-error with the newest copy this reader may serve, its own or one L1 holds now, else
   * the failure. The resolution fell back only to the copy of the reader that started it: a reader that joined it
   * with a copy of its own (the first held nothing, and the instance got a copy since) used to get the failure, a 503
   * for a profile the instance held ({@code JoinedReadFallbackTest}).
   */
  private Future<Result> lastGood(String username, CachedProfile held, Throwable err) {
    CachedProfile best = null;
    for (CachedProfile copy : new CachedProfile[] {held, l1.get(username)}) {
      if (copy != null && copy.found() && freshness.of(copy, now()) != Freshness.State.EXPIRED
        && (best == null || copy.newerThan(best))) {
        best = copy;
      }
    }
    return best == null ? Future.failedFuture(err) : Future.succeededFuture(new Result(best, Outcome.STALE_IF_ERROR));
  }

  private Future<Result> resolveNow(String username, CachedProfile held) {
    Lane lane = held != null && held.found() && freshness.of(held, now()) != Freshness.State.EXPIRED ? Lane.REFRESH : Lane.FOREGROUND;
    Future<Result> peek = peeks.get(username);
    if (peek != null) {
      // The copy this read found was just outdated by a write that is already in L2: its read, not the resolution
      // in flight, answers first; only if it found nothing fresh does this read join the resolution.
      return peek.transform(ar -> ar.succeeded() && ar.result() != null ? Future.succeededFuture(ar.result())
        : singleFlight(username, held, lane));
    }
    CachedProfile current = l1.get(username);
    if (current != held && current != null && freshness.of(current, now()) == Freshness.State.FRESH) {
      // Put in L1 since the caller looked (by such a read that has just finished, say): a hit, not a flight to join.
      return Future.succeededFuture(new Result(current, Outcome.SHARED_HIT));
    }
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

  /** What a webhook change did to the shared copy. */
  public enum Patched {
    /** Written (changed, or marked outdated). */
    WRITTEN,
    /** No copy to change: a tombstone was left, so the next read fetches the profile. */
    NO_COPY,
    /** Skipped: a newer change to the same part of the profile was written already. */
    OLDER
  }

  /**
   * The changes lost the race to write their profile {@link #PATCH_ATTEMPTS} times in a row: another write got in
   * each time, so the profile is being written, not failing. Whoever applies them can try again later (the events
   * stream does, without spending an attempt). Stackless: expected under contention.
   */
  public static final class Contended extends VertxException {
    Contended() {
      super("the profile kept changing while it was patched", true);
    }
  }

  /** One webhook change to a profile, made at {@code at}: {@code change} alters the document; {@code null} outdates it. */
  public record Change(ChangeTime at, UnaryOperator<JsonObject> change) {
  }

  /**
   * Applies a change made at {@code at} and announced with a complete payload to the shared copy, without an
   * upstream call: reads the copy with its version, changes it, and writes it back only if no other write happened in
   * between (else reads again) and no newer change to the same part was written (else skips it for good: two changes
   * handled at the same moment, on any instances, end with the newer one). With no shared copy (Redis lost it), the
   * change is applied to this instance's L1 copy instead and shared as an outdated copy: the last good copy, served
   * only if the upstream fails. With neither, leaves a tombstone. Either way a fetch already in flight cannot publish
   * its older copy over the write, and every other instance keeps its older L1 copy only as an outdated one.
   */
  public Future<Patched> patch(String username, ChangeTime at, UnaryOperator<JsonObject> change) {
    return apply(username, List.of(new Change(at, change))).get(0);
  }

  /**
   * A change made at {@code at} was announced that cannot be applied (an incomplete payload): keeps the last good
   * copy, shared or held, as an outdated one, so that the next read fetches the current profile and the copy is
   * served only while the upstream fails. The write moves the version like a patch: a fetch already in flight cannot
   * publish over it; and like a patch it is skipped if a newer change to the same part was written.
   */
  public Future<Patched> outdate(String username, ChangeTime at) {
    return apply(username, List.of(new Change(at, null))).get(0);
  }

  /** {@link #outdate(String, ChangeTime)} for a change without a time (a finished link job): never skipped. */
  public Future<Void> outdate(String username) {
    return outdate(username, ChangeTime.NONE).mapEmpty();
  }

  /**
   * Applies {@code changes} to one profile in their order, each as {@link #patch} or {@link #outdate} would, in one
   * read and one write of the shared copy (more only when another write slipped in between, or when some of them are
   * older than changes already written to the same part: those are skipped and the others written again). Changes
   * queued behind one another for a hot profile cost a few round trips together instead of a few each. One result per
   * change, in order; a change the document cannot take fails alone.
   */
  public List<Future<Patched>> apply(String username, List<Change> changes) {
    // Named by a verified webhook (or an operator's job): the name exists, complete payload or not.
    upstream.admission().markKnown(username);
    Batch b = new Batch(username, changes);
    write(b, PATCH_ATTEMPTS).onFailure(b::fail);
    return b.results();
  }

  /** Changes to one profile being written together, and what became of each. */
  private static final class Batch {
    final String username;
    final List<Change> changes;
    final List<Promise<Patched>> results;
    /** The changes not settled yet, by their place in {@link #changes}, in order. */
    final List<Integer> live;

    Batch(String username, List<Change> changes) {
      this.username = username;
      this.changes = changes;
      this.results = new ArrayList<>(changes.size());
      this.live = new ArrayList<>(changes.size());
      // A change older than one before it to the same part would be refused by its write on its own: skipped here,
      // so one write never records two times for a part out of order.
      Map<String, Long> newest = new HashMap<>();
      for (int i = 0; i < changes.size(); i++) {
        results.add(Promise.promise());
        ChangeTime at = changes.get(i).at();
        if (at.ordered()) {
          Long before = newest.get(at.part());
          if (before != null && at.madeAtMs() < before) {
            results.get(i).complete(Patched.OLDER);
            continue;
          }
          newest.put(at.part(), at.madeAtMs());
        }
        live.add(i);
      }
    }

    List<Future<Patched>> results() {
      List<Future<Patched>> futures = new ArrayList<>(results.size());
      results.forEach(p -> futures.add(p.future()));
      return futures;
    }

    List<ChangeTime> times() {
      List<ChangeTime> times = new ArrayList<>(live.size());
      live.forEach(i -> times.add(changes.get(i).at()));
      return times;
    }

    boolean outdatesOnly() {
      return live.stream().allMatch(i -> changes.get(i).change() == null);
    }

    boolean outdates() {
      return live.stream().anyMatch(i -> changes.get(i).change() == null);
    }

    JsonObject applyTo(JsonObject doc) {
      for (int i : live) {
        UnaryOperator<JsonObject> change = changes.get(i).change();
        if (change != null) {
          doc = change.apply(doc);
        }
      }
      return doc;
    }

    /** The live changes at {@code places} (of {@link #times()}) were older than changes written already. */
    void older(List<Integer> places) {
      List<Integer> gone = new ArrayList<>(places.size());
      places.forEach(p -> gone.add(live.get(p)));
      gone.forEach(i -> results.get(i).complete(Patched.OLDER));
      live.removeAll(gone);
    }

    void settle(Patched p) {
      live.forEach(i -> results.get(i).tryComplete(p));
      live.clear();
    }

    void fail(Throwable err) {
      live.forEach(i -> results.get(i).tryFail(err));
      live.clear();
    }
  }

  private Future<Void> write(Batch b, int attempts) {
    if (b.live.isEmpty()) {
      return Future.succeededFuture();
    }
    return l2.get(b.username).compose(shared -> {
      CachedProfile base = shared.copy();
      boolean sharedBase = base != null && base.found();
      if (!sharedBase) {
        CachedProfile held = l1.get(b.username);
        base = held != null && held.found() && freshness.of(held, now()) != Freshness.State.EXPIRED ? held : null;
      }
      if (base == null) {
        return tombstone(b, attempts);
      }
      CachedProfile next;
      try {
        next = b.outdatesOnly() ? base.asOutdated()
          : ProfileDocument.found(b.username, ProfileDocument.canonical(b.username, b.applyTo(base.decode())), now());
      } catch (RuntimeException unusable) {
        return b.live.size() == 1 ? Future.failedFuture(unusable) : oneByOne(b);
      }
      if (!sharedBase || base.outdated() || b.outdates()) {
        // Built on a copy no current shared write vouches for (or announced incomplete): good enough to serve if the
        // upstream fails, no more.
        next = next.asOutdated();
      }
      return l2.write(ProfileStore.Write.PATCH, next, shared.version(), now(), b.times()).compose(written -> {
        if (!written.older().isEmpty()) {
          // Nothing was written: the others go again without them (each round settles at least one).
          b.older(written.older());
          return write(b, attempts);
        }
        if (written.stored() != null) {
          l1.put(written.stored());
          b.settle(Patched.WRITTEN);
          return Future.succeededFuture();
        }
        // Another write came in between: read its copy and apply the changes again, the order checked again too,
        // after a short random pause, so that instances writing one hot profile fall out of step instead of
        // colliding again.
        if (attempts <= 1) {
          return Future.failedFuture(new Contended());
        }
        long pauseMs = 1 + java.util.concurrent.ThreadLocalRandom.current().nextLong(CONTENTION_PAUSE_MS << (PATCH_ATTEMPTS - attempts));
        return vertx.timer(pauseMs).compose(t -> write(b, attempts - 1));
      });
    });
  }

  /** {@code b}'s changes one at a time, in order: together they made a document one of them could not take. */
  private Future<Void> oneByOne(Batch b) {
    Future<Void> chain = Future.succeededFuture();
    for (int i : List.copyOf(b.live)) {
      Change change = b.changes.get(i);
      Promise<Patched> result = b.results.get(i);
      chain = chain.transform(v -> apply(b.username, List.of(change)).get(0).andThen(result).transform(done -> Future.succeededFuture()));
    }
    b.live.clear();
    return chain;
  }

  /** Leaves a tombstone in L2; this and every other instance keep their older copy only as an outdated one. */
  private Future<Void> tombstone(Batch b, int attempts) {
    return l2.tombstone(b.username, b.times()).compose(r -> {
      if (!r.older().isEmpty()) {
        b.older(r.older());
        return write(b, attempts);
      }
      overtaken(b.username);
      l1.outdate(b.username, r.version());
      b.settle(Patched.NO_COPY);
      return Future.succeededFuture();
    });
  }

  /**
   * Drops every copy of {@code username} (an operator's purge): the shared one (leaving a tombstone no older fetch
   * can beat), this instance's L1 copy, and (by the write's invalidation) every other instance's.
   */
  public Future<Void> purge(String username) {
    overtaken(username);
    l1.invalidate(username);
    return l2.purge(username).map(version -> {
      l1.invalidate(username, version);
      return null;
    });
  }

  /**
   * Another instance's write made {@code version}: this instance's older L1 copy is dropped if {@code drop}, else
   * kept as an outdated copy.
   */
  public void invalidateLocal(String username, long version, boolean drop) {
    if (drop) {
      overtaken(username);
      l1.invalidate(username, version);
      return;
    }
    if (inflight.containsKey(username)) {
      // The write is readable in L2 already (the script publishes after writing it), but the resolution in flight
      // (this instance's refresh waiting for a peer's copy, say) would see it only at its next poll, and reads that
      // find their copy outdated would wait for that. Read it once now; such reads wait for this read instead.
      // Registered before the copy is outdated, so no read can find the copy outdated and miss it.
      Promise<Result> peek = Promise.promise();
      if (peeks.putIfAbsent(username, peek.future()) == null) {
        fetcher.sharedIfFresh(username, l1.get(username)).onComplete(ar -> {
          peeks.remove(username, peek.future());
          peek.handle(ar);
        });
      }
      overtaken(username);
    }
    l1.outdate(username, version);
  }

  /**
   * After invalidations may have been missed (the subscription was lost, or moved to a new master): the version of
   * every copy L1 holds is compared with L2's, {@value #RECONCILE_BATCH} profiles at a time, and a copy older than L2's
   * is outdated as the missed message would have done (the next read takes the newer copy from L2). Without this, an
   * instance cut off from Redis while a webhook was handled kept serving the copy from before it as a hit, once back,
   * until its freshness ran out (a drill: 54 s). A copy that came from L2 while L2 now has no version for its profile
   * (Redis came back empty) is written back to it ({@link SharedFetch#shareLost}). Fails at the first Redis failure.
   */
  public Future<Void> reconcile() {
    return reconcile(l1.usernames(), 0);
  }

  private Future<Void> reconcile(List<String> usernames, int from) {
    if (from >= usernames.size()) {
      return Future.succeededFuture();
    }
    int to = Math.min(usernames.size(), from + RECONCILE_BATCH);
    List<Future<Void>> checks = new ArrayList<>(to - from);
    for (String username : usernames.subList(from, to)) {
      CachedProfile held = l1.get(username);
      if (held != null) {
        checks.add(l2.version(username).map(version -> {
          if (version > held.version()) {
            invalidateLocal(username, version, false);
          } else if (version == 0) {
            // L2 no longer knows a copy it gave this instance: Redis lost its data. Shared again from here.
            fetcher.shareLost(held);
          }
          return null;
        }));
      }
    }
    return Future.all(checks).compose(v -> reconcile(usernames, to));
  }

  /**
   * A change was written while a resolution of {@code username} is in flight: the reads that joined it began before
   * the change and get what it brings back (the newer shared copy if there is one, else the copy it fetched, which the
   * change kept out of the caches); a read from now on starts a resolution of its own, which waits for the fetch lock
   * and fetches again if the change left no copy. Joining the older one, a read made after a webhook was handled was
   * answered the copy from before it (a drill: 1.2 s later, while another instance served the new one).
   */
  private void overtaken(String username) {
    inflight.remove(username);
  }

  /** The username whose cached profile holds this link id, or {@code null} if no cached profile does. */
  public Future<String> ownerOfLink(String linkId) {
    return l2.ownerOfLink(linkId, now());
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
