package dev.biogate.stream;

import io.vertx.circuitbreaker.RetryPolicy;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.VertxException;
import io.vertx.redis.client.Redis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The one way biogate consumes a Redis stream: one consumer (this instance) in one group, feeding entries to a
 * {@link StreamHandler} and carrying out its {@link Outcome}s under one {@link StreamPolicy}.
 * <ul>
 *   <li><b>Reading</b>: {@code XREADGROUP} without {@code BLOCK} (no pooled connection is ever held), at most
 *       {@code maxHeld} entries held at once; a lost group ({@code NOGROUP}: Redis came back empty) is recreated.</li>
 *   <li><b>Outcomes</b>: DONE acknowledges; RETRY counts the attempt in Redis and retries after exponential backoff
 *       with jitter (vertx-circuit-breaker's {@link RetryPolicy}), dead-lettering after {@code maxAttempts}; DEAD
 *       dead-letters at once; KEEP offers the entry again later without counting. An entry stays held (and pending
 *       under this consumer) until one of these is recorded in Redis, so nothing is dropped on a Redis blip.</li>
 *   <li><b>Liveness</b>: a heartbeat every TTL/3; consumers whose heartbeat is older than the TTL are dead: their
 *       pending entries are claimed here and the consumers removed ({@code redis/stream_reap.lua}). Entries being
 *       worked on are touched so they never look abandoned; entries kept without attempts are left idle and, after
 *       {@code idleClaimMs}, taken over by another consumer that may be able to handle them.</li>
 *   <li><b>Trimming</b>: entries every group has finished are trimmed ({@code XTRIM MINID}); nothing unfinished
 *       ever is. A pending entry found deleted anyway is logged and counted, never silently acknowledged.</li>
 * </ul>
 * A clean stop finishes the attempts in flight, then leaves the group or, if it still owns entries, stamps its
 * heartbeat dead so another instance claims them at once. Confined to its own context: no locking.
 */
public final class StreamEngine extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(StreamEngine.class);
  private static final long MAX_READ_BACKOFF_MS = 2_000;
  private static final long MAX_REDIS_RETRY_MS = 5_000;
  private static final long STOP_WAIT_MS = 5_000;

  private final Redis redis;
  private final StreamPolicy policy;
  private final String consumer;
  private final StreamHandler handler;
  private final StreamStats stats;
  private final RetryPolicy backoff;
  private final Map<String, Held> held = new HashMap<>();
  private StreamGroup group;
  private boolean stopping;
  private boolean needGroup = true;
  private boolean degraded;
  private boolean reaping;
  private boolean reading;
  private boolean trimming;
  private int inFlight;
  private long readBackoffMs;
  private long readTimer = -1;
  private long beatTimer = -1;
  private long reapTimer = -1;
  private long trimTimer = -1;
  private long touchTimer = -1;

  public StreamEngine(Redis redis, StreamPolicy policy, String consumer, StreamHandler handler, StreamStats stats) {
    this.redis = redis;
    this.policy = policy;
    this.consumer = consumer;
    this.handler = handler;
    this.stats = stats;
    this.backoff = RetryPolicy.exponentialDelayWithJitter(policy.retryBaseMs(), policy.retryMaxMs());
  }

  public StreamStats stats() {
    return stats;
  }

  public StreamPolicy policy() {
    return policy;
  }

  /** Beats before the first read (a consumer that reads must be known alive), then starts every timer. */
  @Override
  public Future<?> start() {
    group = new StreamGroup(redis, policy, consumer);
    long ttl = policy.heartbeatTtlMs();
    return group.beat().compose(v -> group.ensure()).onSuccess(v -> needGroup = false).otherwiseEmpty().onComplete(v -> {
      beatTimer = vertx.setPeriodic(Math.max(30, ttl / 3), t -> group.beat().onFailure(err -> trouble("beat", err)));
      reapTimer = vertx.setPeriodic(policy.reapIntervalMs(), t -> reap());
      trimTimer = vertx.setPeriodic(policy.trimIntervalMs(), t -> trim());
      touchTimer = vertx.setPeriodic(Math.max(30, policy.idleClaimMs() / 3), t -> touch());
      read();
    });
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    for (long t : new long[] {readTimer, beatTimer, reapTimer, trimTimer, touchTimer}) {
      if (t >= 0) {
        vertx.cancelTimer(t);
      }
    }
    held.values().forEach(h -> {
      if (h.timer >= 0) {
        vertx.cancelTimer(h.timer);
      }
    });
    return idle(System.currentTimeMillis() + STOP_WAIT_MS)
      .compose(v -> group.retire())
      .otherwiseEmpty();
  }

  /** Nothing in flight: no handler attempt, no read or reap whose entries could land after the stop. */
  private Future<Void> idle(long deadline) {
    if ((inFlight == 0 && !reading && !reaping) || System.currentTimeMillis() > deadline) {
      return Future.succeededFuture();
    }
    return vertx.timer(10, TimeUnit.MILLISECONDS).compose(t -> idle(deadline));
  }

  // ---- reading

  private void read() {
    readTimer = -1;
    if (stopping) {
      return;
    }
    int room = policy.maxHeld() - held.size();
    if (room <= 0) {
      readLater(policy.pollMs());
      return;
    }
    reading = true;
    Future<Void> ready = needGroup ? group.ensure().onSuccess(v -> needGroup = false) : Future.succeededFuture();
    ready.compose(v -> group.read(room)).onComplete(ar -> {
      reading = false;
      if (ar.failed()) {
        if (StreamGroup.isError(ar.cause(), "NOGROUP")) {
          needGroup = true;
        }
        trouble("read", ar.cause());
        readBackoffMs = Math.min(MAX_READ_BACKOFF_MS, Math.max(100, readBackoffMs * 2));
        readLater(readBackoffMs);
        return;
      }
      readBackoffMs = 0;
      if (degraded) {
        degraded = false;
        LOG.info("{}/{} is reading again", policy.stream(), policy.group());
      }
      ar.result().forEach(this::take);
      readLater(ar.result().isEmpty() ? policy.pollMs() : 0);
    });
  }

  private void readLater(long ms) {
    if (!stopping) {
      readTimer = ms <= 0 ? vertx.setTimer(1, t -> read()) : vertx.setTimer(ms, t -> read());
    }
  }

  private void take(StreamEntry e) {
    if (stopping || held.containsKey(e.id())) {
      // Stopping: it stays pending under this consumer; retire() hands it to another instance.
      return;
    }
    if (e.deleted()) {
      lost(e.id());
      return;
    }
    Held h = new Held(e);
    held.put(e.id(), h);
    attempt(h);
  }

  // ---- handling

  private void attempt(Held h) {
    h.timer = -1;
    inFlight++;
    Future<Outcome> work;
    try {
      work = handler.handle(h.entry);
    } catch (RuntimeException e) {
      work = Future.failedFuture(e);
    }
    work.timeout(policy.handlerTimeoutMs(), TimeUnit.MILLISECONDS)
      .otherwise(err -> Outcome.retry(reasonOf(err)))
      .onComplete(ar -> {
        inFlight--;
        Outcome o = ar.result() == null ? Outcome.retry("no outcome") : ar.result();
        settle(h, o);
      });
  }

  private void settle(Held h, Outcome o) {
    if (h.lost && o.kind() != Outcome.Kind.DONE) {
      release(h);
      return;
    }
    h.keeping = o.kind() == Outcome.Kind.KEEP;
    switch (o.kind()) {
      case DONE:
        stats.handled.increment();
        // Acknowledged even when stopping: the work is done, and an ack spares someone a repeat.
        acknowledge(h, 1);
        break;
      case KEEP:
        stats.kept.increment();
        later(h, o.afterMs() >= 0 ? o.afterMs() : policy.keepDelayMs());
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
        if (StreamGroup.isError(ar.cause(), "NOGROUP")) {
          release(h);  // the stream is gone (Redis came back empty): so is the entry
        } else if (!stopping) {
          h.timer = vertx.setTimer(redisRetryMs(tries), t -> record(h, o, dead, tries + 1));
        } else {
          release(h);
        }
        return;
      }
      StreamGroup.Failure f = ar.result();
      if (f.next() == StreamGroup.AfterFailure.RETRY) {
        later(h, o.afterMs() >= 0 ? o.afterMs() : backoff.delay(null, f.attempts()));
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
   * An acknowledgement that fails (Redis blip) is retried while the entry stays held: giving up would leave it
   * pending under a live consumer, where nobody would ever offer it again.
   */
  private void acknowledge(Held h, int tries) {
    group.ack(h.entry, System.currentTimeMillis()).onComplete(ar -> {
      if (ar.succeeded() || stopping || StreamGroup.isError(ar.cause(), "NOGROUP")) {
        release(h);
      } else {
        h.timer = vertx.setTimer(redisRetryMs(tries), t -> acknowledge(h, tries + 1));
      }
    });
  }

  private void later(Held h, long ms) {
    if (stopping || h.lost) {
      release(h);
    } else {
      h.timer = vertx.setTimer(Math.max(1, ms), t -> attempt(h));
    }
  }

  private void release(Held h) {
    held.remove(h.entry.id(), h);
  }

  private static long redisRetryMs(int tries) {
    return Math.min(MAX_REDIS_RETRY_MS, 100L << Math.min(tries - 1, 10));
  }

  // ---- liveness and trimming

  private void reap() {
    int room = policy.maxHeld() - held.size();
    if (reaping || stopping || room <= 0) {
      return;
    }
    reaping = true;
    group.reap(room).onComplete(ar -> {
      reaping = false;
      if (ar.failed()) {
        return;
      }
      StreamGroup.Reaped r = ar.result();
      r.lost().forEach(this::lost);
      if (r.removed() > 0) {
        stats.retiredConsumers.add(r.removed());
        LOG.info("{}/{}: removed {} consumer(s) of dead instances", policy.stream(), policy.group(), r.removed());
      }
      if (!r.claimed().isEmpty()) {
        stats.claimed.add(r.claimed().size());
        LOG.info("{}/{}: took over {} entries of dead instances", policy.stream(), policy.group(), r.claimed().size());
        r.claimed().forEach(this::take);
      }
    });
  }

  private void touch() {
    if (held.isEmpty() || stopping) {
      return;
    }
    List<String> ids = new ArrayList<>(held.size());
    held.values().forEach(h -> ids.add(h.keeping ? "?" + h.entry.id() : h.entry.id()));
    group.touch(ids).onSuccess(lost -> lost.forEach(id -> {
      Held h = held.get(id);
      if (h != null) {
        // Another consumer owns it now (it took over a kept entry, or this instance stalled past the TTL).
        h.lost = true;
        if (h.timer >= 0) {
          vertx.cancelTimer(h.timer);
          release(h);
        }
      }
    }));
  }

  private void trim() {
    if (trimming || stopping) {
      return;
    }
    trimming = true;
    group.trim().onComplete(ar -> {
      trimming = false;
      if (ar.succeeded()) {
        stats.trimmed.add(ar.result());
      }
    });
  }

  /** A pending entry deleted from the stream before it was handled: never silent. */
  private void lost(String id) {
    stats.lost.increment();
    LOG.error("{}/{}: pending entry {} was deleted from the stream before it was handled; it is lost",
      policy.stream(), policy.group(), id);
  }

  private void trouble(String what, Throwable err) {
    if (!degraded && !stopping) {
      degraded = true;
      LOG.warn("{}/{} cannot {} ({}); retrying with backoff", policy.stream(), policy.group(), what,
        err.getClass().getSimpleName());
    }
  }

  /** The reason recorded for a failed attempt: short, never a payload. */
  static String reasonOf(Throwable err) {
    if (err instanceof TimeoutException) {
      return "timeout";
    }
    if (err instanceof VertxException && err.getMessage() != null && err.getStackTrace().length == 0) {
      return err.getMessage();  // a stackless, expected failure carries a short reason by convention
    }
    return err.getClass().getSimpleName();
  }

  private static final class Held {
    final StreamEntry entry;
    long timer = -1;
    boolean keeping;
    boolean lost;

    Held(StreamEntry entry) {
      this.entry = entry;
    }
  }
}
