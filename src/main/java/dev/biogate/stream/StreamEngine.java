package dev.biogate.stream;

import dev.biogate.redis.RedisErrors;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.redis.client.Redis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The one way biogate consumes a Redis stream: one consumer (this instance) in one group, feeding entries to a
 * {@link StreamHandler} and carrying out its {@link Outcome}s under one {@link StreamPolicy} ({@link HeldEntries}).
 * <ul>
 *   <li><b>Reading</b>: {@code XREADGROUP} without {@code BLOCK} (no pooled connection is ever held), at most
 *       {@code maxHeld} entries held at once; a lost group ({@code NOGROUP}: Redis came back empty) is recreated.</li>
 *   <li><b>Liveness</b>: a heartbeat every TTL/3; consumers whose heartbeat is older than the TTL are dead: their
 *       pending entries are claimed here and the consumers removed ({@code redis/stream_reap.lua}). Entries being
 *       worked on are touched so they never look abandoned; entries kept without attempts are left idle and, after
 *       {@code idleClaimMs}, taken over by another consumer that may be able to handle them.</li>
 *   <li><b>Trimming</b>: entries every group has finished are trimmed ({@code XTRIM MINID}); nothing unfinished
 *       ever is. A pending entry found deleted anyway is logged and counted, never silently acknowledged.</li>
 * </ul>
 * A clean stop finishes what is in flight, then leaves the group or, if it still owns entries, stamps its heartbeat
 * dead so another instance claims them at once. Confined to its own context: no locking.
 */
public final class StreamEngine extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(StreamEngine.class);
  /** Trouble and recovery are grouped over every engine: when Redis goes away they all fail at once. */
  private static final EngineLog GROUPED = new EngineLog(LOG);
  private static final long MAX_READ_BACKOFF_MS = 2_000;
  private static final long STOP_WAIT_MS = 5_000;

  private final Redis redis;
  private final Redis liveness;
  private final StreamPolicy policy;
  private final String consumer;
  private final StreamHandler handler;
  private final StreamStats stats;
  private StreamGroup group;
  private HeldEntries held;
  private boolean stopping;
  private boolean needGroup = true;
  private boolean degraded;
  private boolean reading;
  private boolean reaping;
  /** When a read last failed (0: never): its entries may be pending here unseen. */
  private long lastFailedReadMs;
  private boolean trimming;
  private long readBackoffMs;
  private long readTimer = -1;
  /** The pending read timer was set because every slot was taken, not because the stream was empty. */
  private boolean waitingForRoom;
  private long[] timers = {};
  /** The pause before the next read after reads that found nothing: {@code pollMs} doubling up to the policy's max. */
  private long idlePauseMs;
  /** The pending read timer is an idle pause, which {@link #wake()} may cut short. */
  private volatile boolean idlePause;
  /** {@link #wake()} was called since the last read was sent: an empty answer may predate the entry. */
  private volatile boolean woken;

  public StreamEngine(Redis redis, StreamPolicy policy, String consumer, StreamHandler handler, StreamStats stats) {
    this(redis, redis, policy, consumer, handler, stats);
  }

  /**
   * {@code liveness}: a client of its own (a small pool) for the heartbeat and touches, so that a storm of work on
   * {@code redis} can never delay them past the TTL and make this live instance look dead.
   */
  public StreamEngine(Redis redis, Redis liveness, StreamPolicy policy, String consumer, StreamHandler handler, StreamStats stats) {
    this.redis = redis;
    this.liveness = liveness;
    this.policy = policy;
    this.consumer = consumer;
    this.handler = handler;
    this.stats = stats;
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
    group = new StreamGroup(redis, liveness, policy, consumer);
    held = new HeldEntries(vertx, group, policy, handler, stats);
    held.onRoomFreed(this::roomFreed);
    return group.beat().compose(v -> group.ensure()).onSuccess(v -> needGroup = false).otherwiseEmpty().onComplete(v -> {
      timers = new long[] {
        vertx.setPeriodic(Math.max(30, policy.heartbeatTtlMs() / 3), t -> group.beat().onFailure(err -> trouble("beat", err))),
        vertx.setPeriodic(policy.reapIntervalMs(), t -> reap()),
        vertx.setPeriodic(Math.max(30, policy.idleClaimMs() / 3), t -> touch()),
        vertx.setPeriodic(trimPeriodMs(policy), t -> trim())};
      read();
    });
  }

  /**
   * A sole reader deletes each entry in the script that finishes it (acknowledged or dead-lettered), so its stream
   * holds only work and a trim finds nothing: it runs once a minute as a safety net rather than every second (an idle
   * instance sent one a second per events shard and for the outbound stream: a tenth of its Redis round trips).
   */
  static long trimPeriodMs(StreamPolicy policy) {
    return policy.soleReader() ? Math.max(SOLE_READER_TRIM_MS, policy.trimIntervalMs()) : policy.trimIntervalMs();
  }

  static final long SOLE_READER_TRIM_MS = 60_000;

  @Override
  public Future<?> stop() {
    stopping = true;
    if (readTimer >= 0) {
      vertx.cancelTimer(readTimer);
    }
    for (long t : timers) {
      vertx.cancelTimer(t);
    }
    held.stop();
    return idle(System.currentTimeMillis() + STOP_WAIT_MS).compose(v -> group.retire()).otherwiseEmpty();
  }

  /** Nothing in flight: no handler attempt, no read or reap whose entries could land after the stop. */
  private Future<Void> idle(long deadline) {
    if ((held.inFlight() == 0 && !reading && !reaping) || System.currentTimeMillis() > deadline) {
      return Future.succeededFuture();
    }
    return vertx.timer(10, TimeUnit.MILLISECONDS).compose(t -> idle(deadline));
  }

  /**
   * Something in this process just queued an entry on this stream: read now rather than after the idle pause. Any
   * thread; costs a volatile write unless the engine is pausing (busy engines read again anyway).
   */
  public void wake() {
    woken = true;
    if (idlePause && context != null) {
      context.runOnContext(v -> {
        if (idlePause && readTimer >= 0 && !stopping) {
          vertx.cancelTimer(readTimer);
          read();
        }
      });
    }
  }

  private void read() {
    readTimer = -1;
    waitingForRoom = false;
    idlePause = false;
    woken = false;
    if (stopping) {
      return;
    }
    int room = held.room();
    if (room <= 0) {
      readLater(policy.pollMs());
      waitingForRoom = true;
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
        lastFailedReadMs = System.currentTimeMillis();
        readBackoffMs = Math.min(MAX_READ_BACKOFF_MS, Math.max(100, readBackoffMs * 2));
        readLater(readBackoffMs);
        return;
      }
      readBackoffMs = 0;
      if (degraded) {
        degraded = false;
        GROUPED.report(vertx, name(), "is reading again", false);
      }
      ar.result().forEach(held::take);
      if (!ar.result().isEmpty() || woken) {
        idlePauseMs = 0;
        readLater(0);
        return;
      }
      idlePauseMs = idlePauseMs == 0 ? policy.pollMs() : Math.min(policy.idlePollMaxMs(), idlePauseMs * 2);
      readLater(idlePauseMs);
      idlePause = true;
    });
  }

  /** Half the slots are free again: a read that only waited for room runs now rather than at the next poll. */
  private void roomFreed() {
    if (waitingForRoom && readTimer >= 0 && !stopping) {
      vertx.cancelTimer(readTimer);
      readTimer = -1;
      waitingForRoom = false;
      readLater(0);
    }
  }

  private void readLater(long ms) {
    if (!stopping) {
      readTimer = vertx.setTimer(Math.max(1, ms), t -> read());
    }
  }

  private void reap() {
    int room = held.room();
    if (reaping || stopping || room <= 0) {
      return;
    }
    reaping = true;
    group.reap(room, ownIdleMs()).onComplete(ar -> {
      reaping = false;
      if (ar.failed()) {
        return;
      }
      StreamGroup.Reaped r = ar.result();
      r.lost().forEach(held::lost);
      if (r.removed() > 0) {
        stats.retiredConsumers.add(r.removed());
        LOG.info("{}/{}: removed {} consumer(s) of dead instances", policy.stream(), policy.group(), r.removed());
      }
      // Entries this engine holds come back too (its own, idle because kept for others): nothing new about those.
      List<StreamEntry> taken = r.claimed().stream().filter(e -> !held.holds(e.id())).toList();
      if (!taken.isEmpty()) {
        stats.claimed.add(taken.size());
        LOG.info("{}/{}: took over {} entries (of other consumers, or left pending by a read whose reply was lost)",
          policy.stream(), policy.group(), taken.size());
        taken.forEach(held::take);
      }
    });
  }

  /**
   * How long this consumer's own pending entries must have been idle before the reaper takes them back. Normally
   * twice {@code idleClaimMs} (kept entries are left idle for other consumers to take first). For a while after a
   * read failed, twice the command timeout: the failed read may have been served all the same (its entries are then
   * pending here, unseen), while a read still in flight cannot have left entries idle that long.
   */
  private long ownIdleMs() {
    long normal = 2 * policy.idleClaimMs();
    boolean afterFailedRead = lastFailedReadMs > 0 && System.currentTimeMillis() - lastFailedReadMs < normal;
    return afterFailedRead ? Math.min(normal, 2 * policy.commandTimeoutMs()) : normal;
  }

  private void touch() {
    if (stopping || held.isEmpty()) {
      return;
    }
    group.touch(held.touchList()).onComplete(ar -> {
      if (ar.succeeded()) {
        held.notOurs(ar.result());
      } else if (StreamGroup.isError(ar.cause(), "NOGROUP")) {
        // Redis came back empty: the held entries are gone with the group. Let them go, and recreate the group at the
        // next read, which a full engine would otherwise never make.
        needGroup = true;
        held.notOurs(held.ids());
      }
    });
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

  private void trouble(String what, Throwable err) {
    if (!degraded && !stopping) {
      degraded = true;
      GROUPED.report(vertx, name(), "cannot " + what + " (" + RedisErrors.describe(err) + "); retrying with backoff", true);
    }
  }

  private String name() {
    return policy.stream() + "/" + policy.group();
  }
}
