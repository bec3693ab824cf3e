package dev.biogate.stream;

import dev.biogate.http.OutboundCalls;
import dev.biogate.redis.RedisErrors;
import dev.biogate.redis.ThrottledLog;
import io.vertx.circuitbreaker.RetryPolicy;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.internal.ContextInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The entries one engine holds, and what it does with each until its {@link Outcome} is recorded in Redis: DONE →
 * acknowledged; RETRY → attempt counted, tried again after the backoff (exponential with jitter, vertx-circuit-breaker's
 * {@link RetryPolicy}), dead-lettered after {@code maxAttempts}; DEAD → dead-lettered; KEEP → offered again later. An
 * entry stays held (pending under this consumer) until Redis has taken the outcome: a Redis blip delays, never
 * drops. Confined to the engine's context.
 * <p>
 * An entry {@link Outcome#park parked} on its receiver (a destination with as many requests under way as it may
 * have) waits outside the slots ({@link StreamPolicy#maxParked}) and is offered again, oldest first, as soon as the
 * handler says that receiver finished one ({@link StreamHandler#onReceiverFree}); every {@value #PARKED_RECHECK_MS} ms
 * each receiver with entries parked is offered one anyway, should that word have been missed. Past
 * {@link StreamPolicy#maxParked} the newest on the receiver whose oldest parked entry has waited longest is set aside
 * (the receiver that fell behind pays, not the next entry's, nor one with many parked that go out within moments), and
 * the engine reads on: stopping the reads instead (for a
 * receiver that kept answering) left a healthy destination 76 s behind a slow one that a steady flow outran. Before
 * parking, a destination that answered in seconds held one slot per request on the wire, and a backlog for it took
 * every slot from the others.
 */
final class HeldEntries {

  private static final Logger LOG = LoggerFactory.getLogger(HeldEntries.class);
  private static final long MAX_REDIS_RETRY_MS = 5_000;
  /**
   * The longest wait between tries of an entry held for Redis trouble: short, since the entries wait for Redis and not
   * for their own sake, and what they carry (a cache refresh) is expected within about a second of Redis's return.
   */
  private static final long MAX_REDIS_TROUBLE_MS = 2_000;
  /** How often each receiver with entries parked is offered one, should its word that it finished one be missed. */
  static final long PARKED_RECHECK_MS = 5_000;

  /** Handlers that could not reach Redis: one line per interval while it lasts. */
  private final ThrottledLog redisTrouble = new ThrottledLog();
  /** Entries held back because the dead letters are at their ceiling: one line per interval while it lasts. */
  private final ThrottledLog deadLettersFull = new ThrottledLog();
  private final Vertx vertx;
  private final StreamGroup group;
  private final StreamPolicy policy;
  private final StreamHandler handler;
  private final StreamStats stats;
  private final RetryPolicy backoff;
  private final Map<String, Held> held = new HashMap<>();
  /** Entries set aside: one line per interval while it lasts. */
  private final ThrottledLog settingAside = new ThrottledLog();
  private int inFlight;
  /** Held entries waiting on their receiver ({@link Outcome#receiver()}), by receiver. */
  private final Map<String, Integer> waitingBy = new HashMap<>();
  /** Entries parked on their receivers, oldest first, by receiver. */
  private final Map<String, ArrayDeque<Held>> parked = new HashMap<>();
  private int parkedCount;
  private long parkedChars;
  /** Numbers the entries in the order they were first parked: the front of a receiver's queue parked first. */
  private long parkings;
  private long recheckTimer = -1;
  /** The engine's context, known from the first entry taken: where a receiver's word is acted on. */
  private ContextInternal context;
  private boolean stopping;
  /** Entries finished in this event-loop turn, acknowledged together at its end. */
  private List<Held> finished = new ArrayList<>();
  private Runnable roomFreed = () -> { };

  HeldEntries(Vertx vertx, StreamGroup group, StreamPolicy policy, StreamHandler handler, StreamStats stats) {
    this.vertx = vertx;
    this.group = group;
    this.policy = policy;
    this.handler = handler;
    this.stats = stats;
    this.backoff = RetryPolicy.exponentialDelayWithJitter(policy.retryBaseMs(), policy.retryMaxMs());
    if (policy.maxParked() > 0) {
      handler.onReceiverFree(this::freed);
    }
  }

  /**
   * Called (on the engine's context) when releasing an entry brings the room back to half of {@code maxHeld}: a full
   * engine reads again at once instead of sleeping a whole poll interval, so a busy stream is read as fast as its
   * entries are finished.
   */
  void onRoomFreed(Runnable r) {
    this.roomFreed = r;
  }

  /**
   * How many more entries may be taken: up to {@code maxHeld} worked on or waiting, and parked ones beyond that, up to
   * {@code maxParked} more in all.
   */
  int room() {
    int active = held.size() - parkedCount;
    return Math.min(policy.maxHeld() - active, policy.maxHeld() + policy.maxParked() - held.size());
  }

  /** Whether no entry is held (nothing to touch). */
  boolean isEmpty() {
    return held.isEmpty();
  }

  /** Whether the entry with this id is held here (being handled, waiting for a retry, or kept). */
  boolean holds(String id) {
    return held.containsKey(id);
  }

  /** Handler attempts running now. */
  int inFlight() {
    return inFlight;
  }

  void take(StreamEntry e) {
    if (stopping || held.containsKey(e.id())) {
      // Stopping: it stays pending under this consumer; retiring hands it to another instance.
      return;
    }
    if (e.deleted()) {
      lost(e.id());
      // Logged and counted: now it may leave the pending list (it would hold back trimming forever).
      group.forget(e.id());
      return;
    }
    if (context == null) {
      context = (ContextInternal) vertx.getOrCreateContext();
      if (policy.maxParked() > 0) {
        recheckTimer = vertx.setPeriodic(PARKED_RECHECK_MS, t -> List.copyOf(parked.keySet()).forEach(this::resume));
      }
    }
    Held h = new Held(e);
    held.put(e.id(), h);
    String receiver = policy.maxParked() > 0 ? handler.receiverOf(e) : null;
    if (receiver != null && parked.containsKey(receiver)) {
      // Behind the older ones parked there: attempted first, it took a place their receiver had just freed (a
      // re-drill: 59 of 1,300 deliveries went out ahead of older ones parked on the same destination).
      h.keeping = true;
      stats.kept.increment();
      park(h, receiver);
      return;
    }
    attempt(h);
  }

  /** The ids to touch (worked on) and, prefixed with {@code ?}, to only check (kept without attempts). */
  List<String> touchList() {
    List<String> ids = new ArrayList<>(held.size());
    held.values().forEach(h -> ids.add(h.keeping ? "?" + h.entry.id() : h.entry.id()));
    return ids;
  }

  /** Every entry held: to drop them all when the stream's group is gone (Redis came back empty). */
  List<String> ids() {
    return new ArrayList<>(held.keySet());
  }

  /** Another consumer owns these now (it took over a kept entry, or this instance stalled past the TTL). */
  void notOurs(List<String> ids) {
    ids.forEach(id -> {
      Held h = held.get(id);
      if (h != null) {
        h.lost = true;
        if (h.timer >= 0) {
          vertx.cancelTimer(h.timer);
          release(h);
        } else if (h.parkedOn != null) {
          release(h);
        }
      }
    });
  }

  /** No new attempts: entries waiting for one stay pending in Redis. */
  void stop() {
    stopping = true;
    if (recheckTimer >= 0) {
      vertx.cancelTimer(recheckTimer);
    }
    held.values().forEach(h -> {
      if (h.timer >= 0) {
        vertx.cancelTimer(h.timer);
      }
    });
  }

  /** A pending entry deleted from the stream before it was handled: never silent. */
  void lost(String id) {
    stats.lost.increment();
    LOG.error("{}/{}: pending entry {} was deleted from the stream before it was handled; it is lost",
      policy.stream(), policy.group(), id);
  }

  private void attempt(Held h) {
    h.timer = -1;
    inFlight++;
    Future<Outcome> work;
    try {
      work = handler.handle(h.entry, () -> confirm(h));
    } catch (RuntimeException e) {
      work = Future.failedFuture(e);
    }
    // On the engine's context: a handler's future may have none (built from succeeded futures), and a deadline on
    // such a future is a task on Netty's global executor, a thread of its own started and stopped again and again.
    Promise<Outcome> onEngine = ((ContextInternal) vertx.getOrCreateContext()).promise();
    work.onComplete(onEngine);
    onEngine.future().timeout(policy.handlerTimeoutMs(), TimeUnit.MILLISECONDS)
      .map(o -> {
        h.redisTroubles = 0;
        return o;
      })
      .otherwise(err -> {
        if (RedisErrors.unavailable(err)) {
          // Redis could not serve the handler (on a Cluster, the shard its keys live on failing over while this
          // stream's is fine): held and tried again, no attempt spent, or a failover would dead-letter accepted work.
          redisTrouble.warn(LOG, System.currentTimeMillis(), "times", "{}/{}: a handler could not reach redis ({}); holding its"
            + " entries without spending attempts", policy.stream(), policy.group(), RedisErrors.describe(err));
          return Outcome.keep(redisTroubleDelayMs(++h.redisTroubles));
        }
        h.redisTroubles = 0;
        return Outcome.retry(reasonOf(err));
      })
      .onComplete(ar -> {
        inFlight--;
        settle(h, ar.result() == null ? Outcome.retry("no outcome") : ar.result());
      });
  }

  /**
   * Whether this consumer still owns an entry it is about to work on ({@code redis/stream_touch.lua}: the ownership
   * check and the idle reset are one step, so a reaper either took the entry before, and the work is not done here,
   * or cannot take it after). A kept entry is not touched (it is left idle for others), so without this an attempt
   * after a KEEP could start, or stay on the wire, while another instance takes the entry over and does the same work.
   */
  private Future<Boolean> confirm(Held h) {
    if (h.lost) {
      return Future.succeededFuture(false);
    }
    // No group (Redis came back empty): the entry went with it, and is not ours to send. Read as "Redis unreachable"
    // it was kept and tried again forever, holding its slot, so a full engine never read again to recreate the group.
    return group.own(h.entry.id()).recover(err -> StreamGroup.isError(err, "NOGROUP") ? Future.succeededFuture(false)
      : Future.failedFuture(err)).map(owned -> {
      if (!owned) {
        h.lost = true;
        stats.yielded.increment();
        return false;
      }
      // Worked on from now: the periodic touch keeps its idle time low until the outcome is recorded.
      h.keeping = false;
      return !h.lost;
    });
  }

  private void settle(Held h, Outcome o) {
    if (o.receiver() == null || o.parks()) {
      unwait(h);
    }
    if (h.lost && o.kind() != Outcome.Kind.DONE) {
      release(h);
      return;
    }
    if (o.parks() && policy.maxParked() > 0) {
      h.keeping = true;
      stats.kept.increment();
      park(h, o.receiver());
      return;
    }
    h.resumed = false;
    h.keeping = o.kind() == Outcome.Kind.KEEP;
    switch (o.kind()) {
      case DONE:
        // Acknowledged even when stopping or no longer ours: the work is done, and an ack spares someone a repeat.
        h.notes = o.notes();
        finished(h);
        break;
      case KEEP:
        stats.kept.increment();
        later(h, o.afterMs() >= 0 ? o.afterMs() : policy.keepDelayMs(), o.receiver());
        break;
      default:
        boolean dead = o.kind() == Outcome.Kind.DEAD;
        if (!dead) {
          stats.failedAttempts.increment();
        }
        record(h, o, dead, 1);
    }
  }

  private void record(Held h, Outcome o, boolean dead, int tries) {
    group.fail(h.entry, o.reason(), dead, System.currentTimeMillis()).onComplete(ar -> {
      if (ar.failed()) {
        if (!stopping && !StreamGroup.isError(ar.cause(), "NOGROUP")) {
          h.timer = vertx.setTimer(redisRetryMs(tries), t -> record(h, o, dead, tries + 1));
        } else {
          release(h);  // stopping (it stays pending), or the stream is gone (Redis came back empty): so is the entry
        }
        return;
      }
      StreamGroup.Failure f = ar.result();
      if (f.next() == StreamGroup.AfterFailure.RETRY) {
        later(h, o.afterMs() >= 0 ? o.afterMs() : retryDelayMs(backoff, f.attempts()), o.receiver());
        return;
      }
      if (f.next() == StreamGroup.AfterFailure.DEAD_LETTERS_FULL) {
        // Never dropped to make room: it stays pending here (unfinished, so the stream's backlog ceiling pushes back
        // on senders) and is tried again after the backoff, dead-lettered once an operator has replayed some.
        stats.deadLettersFull.increment();
        deadLettersFull.warn(LOG, System.currentTimeMillis(), "entries", "{}/{}: dead letters {} at their ceiling ({});"
          + " entry {} ({}) stays pending and is tried again later", policy.stream(), policy.group(), policy.deadLetters(),
          policy.deadLetterCap(), h.entry.id(), o.reason());
        later(h, o.afterMs() >= 0 ? o.afterMs() : retryDelayMs(backoff, f.attempts()), null);
        return;
      }
      if (f.next() == StreamGroup.AfterFailure.DEAD_LETTERED) {
        stats.deadLettered.increment();
        LOG.warn("{}/{} entry {} dead-lettered after {} attempts: {}", policy.stream(), policy.group(), h.entry.id(),
          f.attempts(), o.reason());
      }
      release(h);
    });
  }

  /**
   * The back-off before attempt {@code attempts + 1}. The policy doubles its base per attempt in a long, which
   * overflowed at the 62nd (an exception, "bound must be greater than origin", and the entry was never tried again):
   * an entry kept at the dead letters' ceiling is retried past {@code maxAttempts} for as long as they stay full.
   */
  static long retryDelayMs(RetryPolicy backoff, int attempts) {
    return OutboundCalls.backoffMs(backoff, attempts);
  }

  /**
   * Queues a finished entry for the acknowledgement at the end of this turn: a handler that batches (the click
   * counter finishes a whole read at once) costs one script call per batch, not one per entry.
   */
  private void finished(Held h) {
    finished.add(h);
    if (finished.size() == 1) {
      vertx.runOnContext(v -> {
        List<Held> batch = finished;
        finished = new ArrayList<>();
        acknowledge(batch, 1);
      });
    }
  }

  /**
   * An acknowledgement that fails (Redis blip) is retried while the entries stay held: giving up would leave them
   * pending under a live consumer, where nobody would ever offer them again.
   */
  private void acknowledge(List<Held> batch, int tries) {
    List<StreamGroup.Finished> entries = new ArrayList<>(batch.size());
    batch.forEach(h -> entries.add(new StreamGroup.Finished(h.entry, h.notes)));
    group.ack(entries, System.currentTimeMillis()).onComplete(ar -> {
      if (ar.succeeded() || stopping || StreamGroup.isError(ar.cause(), "NOGROUP")) {
        // Counted once the acknowledgement is settled, so "handled" never runs ahead of what Redis shows.
        stats.handled.add(batch.size());
        batch.forEach(this::release);
      } else {
        // Each entry retries on its own timer, so one taken over meanwhile (notOurs) cancels only its own retry.
        batch.forEach(h -> h.timer = vertx.setTimer(redisRetryMs(tries), t -> acknowledge(List.of(h), tries + 1)));
      }
    });
  }

  /**
   * Parks the entry on {@code receiver} ({@link Outcome#park}): left idle for others as a kept entry is, and offered
   * again when the receiver finishes an attempt ({@link #resume}); an entry offered so that parks again goes back to
   * the front. With {@code maxParked} entries (or {@code maxParkedChars}) parked, the newest on the receiver whose
   * oldest parked entry has waited longest is set aside to make room ({@link #newestOfTheLongestWaiting}), or this one if
   * that is its own receiver.
   */
  private void park(Held h, String receiver) {
    if (stopping) {
      release(h);
      return;
    }
    long chars = h.entry.chars();
    // One offered again from the front goes back there even at the ceiling: newer ones read meanwhile must not push
    // it out (a few over, at most one per attempt under way).
    while (!h.resumed && (parkedCount >= policy.maxParked() || parkedChars + chars > policy.maxParkedChars())) {
      Held newest = newestOfTheLongestWaiting(receiver);
      if (newest == null) {
        setAside(h, parkedCount + " entries are parked on their receivers");
        return;
      }
      setAside(newest, parkedCount + " entries are parked on their receivers, the longest waiting on " + newest.parkedOn);
    }
    stats.parked.increment();
    if (h.parkedSince == 0) {
      h.parkedSince = ++parkings;
    }
    h.parkedOn = receiver;
    h.parkedChars = chars;
    ArrayDeque<Held> queue = parked.computeIfAbsent(receiver, r -> new ArrayDeque<>());
    if (h.resumed) {
      queue.addFirst(h);
    } else {
      queue.addLast(h);
    }
    parkedCount++;
    parkedChars += chars;
    // It no longer holds a slot: a read that waited for room may run.
    if (room() >= Math.max(1, policy.maxHeld() / 2)) {
      roomFreed.run();
    }
  }

  /**
   * Past the ceiling, the entry that gives way: the newest parked on the receiver whose oldest parked entry was parked
   * first, if that is another receiver than {@code receiver}; null: the entry for {@code receiver} gives way itself. So
   * the receiver that fell behind pays for its backlog, by how long its deliveries wait rather than how many there are:
   * whichever entry came next was set aside once, and then the newest of the receiver with the most parked, which made a
   * healthy destination paced at 100 a second pay half of the ceiling beside one answering in 4 s (its parked ones went
   * out within seconds; 229 of 1,300 set aside came back 70-87 s late).
   */
  private Held newestOfTheLongestWaiting(String receiver) {
    ArrayDeque<Held> own = parked.get(receiver);
    ArrayDeque<Held> longest = null;
    for (ArrayDeque<Held> q : parked.values()) {
      if (longest == null || q.peekFirst().parkedSince < longest.peekFirst().parkedSince) {
        longest = q;
      }
    }
    return longest == null || longest == own ? null : longest.peekLast();
  }

  /** The handler's word, from any thread, that {@code receiver} finished an attempt. */
  private void freed(String receiver) {
    ContextInternal c = context;
    if (c != null) {
      c.runOnContext(v -> resume(receiver));
    }
  }

  /**
   * Offers the oldest entry parked on {@code receiver} again, or, with none parked there, one parked on another
   * receiver (whose share may have grown with this one's finished attempt); one taken over meanwhile is let go of.
   */
  private void resume(String receiver) {
    ArrayDeque<Held> queue = parked.get(receiver);
    if (queue == null && !parked.isEmpty()) {
      queue = parked.values().iterator().next();
    }
    while (!stopping && queue != null && !queue.isEmpty()) {
      Held h = queue.peekFirst();
      unpark(h);
      if (h.lost) {
        release(h);
        continue;
      }
      h.resumed = true;
      attempt(h);
      return;
    }
  }

  private void unpark(Held h) {
    if (h.parkedOn == null) {
      return;
    }
    ArrayDeque<Held> queue = parked.get(h.parkedOn);
    if (queue != null && queue.remove(h) && queue.isEmpty()) {
      parked.remove(h.parkedOn);
    }
    parkedCount--;
    parkedChars -= h.parkedChars;
    h.parkedOn = null;
  }

  /**
   * Offers the entry again after {@code ms}. A wait on its receiver past {@link StreamPolicy#maxWaiting} such waits
   * sets the entry aside instead: let go of here, it stays pending under this consumer and untouched, so another
   * instance takes it over once idle for {@code idleClaimMs} and the reaper here takes it back after twice that. Its
   * attempts are counted in Redis, so it is no nearer the dead letters for it, and its wait only grows.
   */
  private void later(Held h, long ms, String receiver) {
    if (stopping || h.lost) {
      release(h);
      return;
    }
    if (receiver != null && h.waitingFor == null) {
      int waiting = waitingOnReceivers();
      if (waiting >= policy.maxWaiting() || waitingBy.getOrDefault(receiver, 0) >= perReceiver()) {
        setAside(h, waiting + " entries wait on their receivers");
        return;
      }
      h.waitingFor = receiver;
      waitingBy.merge(receiver, 1, Integer::sum);
    }
    // Its place in the share is kept through the attempt: released when an outcome does not wait on the receiver.
    h.timer = vertx.setTimer(Math.max(1, ms), t -> attempt(h));
  }

  /** Lets go of the entry, pending and untouched, so the slots stay free for others ({@link #later}). */
  private void setAside(Held h, String why) {
    stats.setAside.increment();
    settingAside.info(LOG, System.currentTimeMillis(), "entries", "{}/{}: {}; entry {} is set aside (pending, taken up"
      + " again after {} ms idle) so the other slots stay free", policy.stream(), policy.group(), why, h.entry.id(),
      policy.idleClaimMs());
    release(h);
  }

  private void unwait(Held h) {
    if (h.waitingFor != null) {
      waitingBy.computeIfPresent(h.waitingFor, (r, n) -> n == 1 ? null : n - 1);
      h.waitingFor = null;
    }
  }

  /** Held entries waiting on their receivers, all receivers together (a few of them: one per destination). */
  private int waitingOnReceivers() {
    int n = 0;
    for (int w : waitingBy.values()) {
      n += w;
    }
    return n;
  }

  /**
   * Entries one receiver may keep waiting: half the share, so that a receiver in trouble leaves room in it for the
   * others' short waits (a healthy destination's pace): they were set aside behind a down one's, and came back late.
   */
  private int perReceiver() {
    return Math.max(1, policy.maxWaiting() / 2);
  }

  private void release(Held h) {
    unwait(h);
    unpark(h);
    if (held.remove(h.entry.id(), h) && room() >= Math.max(1, policy.maxHeld() / 2)) {
      roomFreed.run();
    }
  }

  /**
   * How long an entry whose handler met Redis trouble {@code troubles} times in a row waits before it is tried again:
   * the retry base, doubled each time up to {@value #MAX_REDIS_TROUBLE_MS} ms (or the retry ceiling if lower), plus up to
   * a quarter more at random, so the entries held through one outage do not all try again in step. Every held entry
   * used to be tried every retry base for as long as Redis failed.
   */
  private long redisTroubleDelayMs(int troubles) {
    long cap = Math.max(policy.retryBaseMs(), Math.min(policy.retryMaxMs(), MAX_REDIS_TROUBLE_MS));
    long delay = Math.min(cap, policy.retryBaseMs() << Math.min(troubles - 1, 20));
    return delay + ThreadLocalRandom.current().nextLong(delay / 4 + 1);
  }

  private static long redisRetryMs(int tries) {
    return Math.min(MAX_REDIS_RETRY_MS, 100L << Math.min(tries - 1, 10));
  }

  /** The reason recorded for a failed attempt: short, never a payload. */
  static String reasonOf(Throwable err) {
    if (err instanceof TimeoutException) {
      return "timeout";
    }
    if (err instanceof VertxException && err.getMessage() != null && err.getStackTrace().length == 0) {
      return err.getMessage();  // a stackless, expected failure carries a short reason by convention
    }
    return RedisErrors.describe(err);
  }

  private static final class Held {
    final StreamEntry entry;
    long timer = -1;
    boolean keeping;
    /** The receiver this entry waits on, keeping its place in the share through its attempts; null: none. */
    String waitingFor;
    /** The receiver this entry is parked on; null: not parked. */
    String parkedOn;
    /** Its {@link StreamEntry#chars} while parked. */
    long parkedChars;
    /** When it was first parked, in the engine's order of parkings ({@link #parkings}); 0: never. */
    long parkedSince;
    /** Attempts in a row its handler met Redis trouble in ({@link RedisErrors#unavailable}). */
    int redisTroubles;
    /** Offered again after parking: if it parks again, it goes back to the front. */
    boolean resumed;
    boolean lost;
    /** What the handler did, for the history (set when it answered DONE). */
    List<String> notes = List.of();

    Held(StreamEntry entry) {
      this.entry = entry;
    }
  }
}
