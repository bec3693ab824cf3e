package dev.biogate.analytics;

import dev.biogate.redis.RedisErrors;
import dev.biogate.redis.ThrottledLog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.LongAdder;

/**
 * Whether clicks may go straight to Redis, and the way back after an outage. Once a write fails, clicks are journaled
 * (also every later one, so the stream keeps their order), Redis is probed every {@code probeMs}, and when it answers
 * the journal is replayed in order, chunk by chunk: a chunk's position is committed only after its {@code XADD}s
 * succeeded, so a failure mid-replay repeats at most that chunk (harmless: consumers dedupe on event ids). Direct
 * writes resume only when the journal is empty, checked and truncated in one step on the journal's thread, so a line
 * appended meanwhile is never stranded. Confined to the analytics context.
 */
final class JournalReplay {

  private static final Logger LOG = LoggerFactory.getLogger(JournalReplay.class);
  private static final long RETRY_MS = 1_000;

  private final Vertx vertx;
  private final ClickStreamWriter writer;
  private final ClickJournal journal;
  private final int chunkSize;
  private final long probeMs;
  private final Runnable resumed;
  private final LongAdder replayed = new LongAdder();
  private boolean healthy = true;
  /** Batches no replica acknowledged: one line per interval while it lasts. */
  private final ThrottledLog unreplicated = new ThrottledLog();
  private final ThrottledLog refused = new ThrottledLog();
  /**
   * An outage and its end, each at most once per interval: on a Cluster with one master down the probe's PING is
   * answered by another master while writes to the dead one's shard still fail, and the two lines alternated every
   * probe (75 lines per instance in 18 s in a drill).
   */
  private final ThrottledLog unavailable = new ThrottledLog();
  private final ThrottledLog answersAgain = new ThrottledLog();
  private boolean full;
  private boolean journaling;
  private boolean replaying;
  private boolean stopping;
  private long timer = -1;

  JournalReplay(Vertx vertx, ClickStreamWriter writer, ClickJournal journal, int chunkSize, long probeMs, Runnable resumed) {
    this.vertx = vertx;
    this.writer = writer;
    this.journal = journal;
    this.chunkSize = chunkSize;
    this.probeMs = probeMs;
    this.resumed = resumed;
  }

  /** True when new clicks may be written straight to Redis (healthy, nothing journaled waiting). */
  boolean direct() {
    return healthy && !journaling;
  }

  /** Clicks were written to the journal: later ones must follow them there until it is replayed. */
  void journaled() {
    journaling = true;
  }

  /** The journal holds clicks from a previous run: replay them now. */
  void leftOver() {
    journaling = true;
    replay();
  }

  /**
   * A write to Redis failed, or the clicks stream is at its backlog ceiling: journal from now on and probe until it
   * takes clicks again.
   */
  void down(Throwable err) {
    journaling = true;
    if (err instanceof ClickStreamWriter.Full) {
      if (!full) {
        full = true;
        LOG.warn("the clicks stream is at its backlog ceiling (its consumers are behind); journaling clicks to {} until it has room",
          journal.path());
      }
    } else if (err instanceof ClickStreamWriter.NotReplicated) {
      // Redis answers: the probe finds it healthy and the replay tries again, until a replica acknowledges.
      unreplicated.warn(LOG, System.currentTimeMillis(), "times", "no replica acknowledged a click batch in time; journaling"
        + " clicks to {} until one does", journal.path());
    } else if (RedisErrors.code(err) != null) {
      // Redis answered, refusing (OOM, READONLY, MISCONF...): it still answers the probe's PING, so this is not an
      // outage to recover from. The replay keeps retrying after each probe, under one line per interval.
      refused.warn(LOG, System.currentTimeMillis(), "times", "redis refuses click writes ({}); journaling clicks to {} until it"
        + " takes them", RedisErrors.code(err), journal.path());
    } else if (healthy) {
      healthy = false;
      unavailable.warn(LOG, System.currentTimeMillis(), "times", "redis unavailable for click recording ({}); journaling"
        + " clicks to {} until it answers again", RedisErrors.describe(err), journal.path());
    }
    probeLater();
  }

  /** Whether a replay step is in flight. */
  boolean busy() {
    return replaying;
  }

  /** No new replay steps or probes; the step in flight finishes. */
  void stop() {
    stopping = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  long replayed() {
    return replayed.sum();
  }

  private void probeLater() {
    if (timer >= 0 || stopping) {
      return;
    }
    timer = vertx.setTimer(probeMs, id -> writer.ping().onComplete(ar -> {
      timer = -1;
      if (ar.failed()) {
        probeLater();
        return;
      }
      if (!healthy) {
        healthy = true;
        answersAgain.info(LOG, System.currentTimeMillis(), "times", "redis answers again; replaying {} journaled clicks",
          journal.depth());
      }
      replay();
    }));
  }

  private void replay() {
    if (!replaying && healthy && journaling && !stopping) {
      replaying = true;
      next();
    }
  }

  private void next() {
    if (stopping || !healthy) {
      replaying = false;
      return;
    }
    journal.read(chunkSize).onComplete(ar -> {
      if (ar.failed()) {
        failed(ar.cause());
        return;
      }
      ClickJournal.Chunk chunk = ar.result();
      if (chunk.lines() == 0) {
        finish();
        return;
      }
      Future<Void> sent = chunk.events().isEmpty() ? Future.succeededFuture() : writer.write(chunk.events());
      sent.compose(v -> journal.commit(chunk)).onComplete(w -> {
        if (w.failed()) {
          replaying = false;
          down(w.cause());
        } else {
          replayed.add(chunk.events().size());
          if (full && !chunk.events().isEmpty()) {
            full = false;
            LOG.info("the clicks stream has room again; replaying {} journaled clicks", journal.depth());
          }
          next();
        }
      });
    });
  }

  private void finish() {
    journaling = false;
    journal.truncateIfDrained().onComplete(ar -> {
      if (ar.succeeded() && ar.result()) {
        replaying = false;
        LOG.info("click journal replayed; recording straight to redis again");
        resumed.run();
      } else {
        journaling = true;
        if (ar.succeeded()) {
          next();
        } else {
          failed(ar.cause());
        }
      }
    });
  }

  private void failed(Throwable cause) {
    replaying = false;
    LOG.error("click journal {} cannot be replayed ({}); retrying", journal.path(), cause.toString());
    if (!stopping) {
      vertx.setTimer(RETRY_MS, id -> replay());
    }
  }
}
