package dev.biogate.analytics;

import dev.biogate.config.AnalyticsOptions;
import io.vertx.core.Context;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Records click events without making the caller wait and without losing any. {@link #record} only enqueues; batches
 * go to the clicks stream (pipelined {@code XADD}s). When Redis fails or does not answer in time, the batch and every
 * later click go to the local {@link ClickJournal} until {@link JournalReplay} has replayed it. A journal left by a
 * previous run is replayed on start; {@link #stop()} writes out everything queued (to Redis, else to the journal)
 * before closing it. Journals other instances left behind in the same directory (instances that are gone: their file
 * lock is free) are replayed too ({@link OrphanJournals}). Deployed as its own unit of work, on its own context;
 * {@link #record} is safe from any thread, everything else runs on that context.
 */
public final class ClickRecorder implements Deployable {

  private static final Logger LOG = LoggerFactory.getLogger(ClickRecorder.class);
  private static final long RETRY_MS = 1_000;
  private static final long STOP_WAIT_MS = 60_000;

  private final Vertx vertx;
  private final ClickStreamWriter writer;
  private final ClickJournal journal;
  private final JournalReplay replay;
  private final OrphanJournals orphans;
  private final int batchSize;
  private final ConcurrentLinkedQueue<ClickEvent> queue = new ConcurrentLinkedQueue<>();
  private final AtomicLong queued = new AtomicLong();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final LongAdder recorded = new LongAdder();
  private final LongAdder journaled = new LongAdder();
  private volatile Context context;
  private boolean flushing;
  private boolean closed;
  private boolean diskTrouble;

  ClickRecorder(Vertx vertx, ClickStreamWriter writer, ClickJournal journal, int batchSize, long probeMs, long orphanScanMs) {
    this.vertx = vertx;
    this.writer = writer;
    this.journal = journal;
    this.batchSize = batchSize;
    // Replayed chunks are written to one shard at a time (a journal's clicks are often one creator's): a chunk larger
    // than a shard's share of the ceiling would be refused whole, every time, and the journal would never drain.
    int chunk = (int) Math.max(1, Math.min(batchSize, writer.shardCeiling()));
    this.replay = new JournalReplay(vertx, writer, journal, chunk, probeMs, this::flush);
    this.orphans = new OrphanJournals(vertx, journal, writer, chunk, orphanScanMs);
  }

  /** The recorder of one instance: its journal at the configured path, its writer to the clicks stream. */
  public static ClickRecorder create(Vertx vertx, ClickStreamWriter writer, AnalyticsOptions o) {
    return new ClickRecorder(vertx, writer, new ClickJournal(vertx, Path.of(o.journalPath()), o.fsyncIntervalMs()),
      o.batchSize(), o.probeMs(), o.orphanScanMs());
  }

  @Override
  public Future<?> deploy(Context ctx) {
    return start(ctx);
  }

  @Override
  public Future<?> undeploy(Context ctx) {
    return stop();
  }

  /** Records a click and returns at once. Clicks recorded before the module has started are held until it has. */
  public void record(ClickEvent event) {
    if (!ClickEvent.usableId(event.eventId()) || !ClickEvent.usableLinkId(event.linkId())) {
      throw new IllegalArgumentException("click events need a valid event id and link id");
    }
    queue.add(event);
    queued.incrementAndGet();
    recorded.increment();
    Context c = context;
    if (c != null && scheduled.compareAndSet(false, true)) {
      c.runOnContext(v -> {
        scheduled.set(false);
        flush();
      });
    }
  }

  /** Opens the journal and replays what a previous run left in it. Call on the analytics context. */
  Future<Void> start(Context ctx) {
    return journal.open().map(left -> {
      context = ctx;
      if (journal.usesSibling()) {
        // Another process on this host holds the configured file: say which file this instance writes instead.
        LOG.info("click journal {} is in use by another instance on this host; journaling to {}", journal.configured(), journal.path());
      }
      if (left > 0) {
        LOG.info("click journal {} holds {} clicks from a previous run; replaying them", journal.path(), left);
        replay.leftOver();
      }
      flush();
      orphans.start();
      return null;
    });
  }

  /** Writes out everything queued, then closes the journal (a later start replays what is in it). */
  Future<Void> stop() {
    replay.stop();
    return orphans.stop().eventually(() -> idle(System.currentTimeMillis() + STOP_WAIT_MS)).eventually(() -> {
      closed = true;
      return journal.close();
    });
  }

  private Future<Void> idle(long deadline) {
    flush();
    if ((queued.get() == 0 && !flushing && !replay.busy()) || System.currentTimeMillis() > deadline) {
      return Future.succeededFuture();
    }
    return vertx.timer(10, TimeUnit.MILLISECONDS).compose(t -> idle(deadline));
  }

  private void flush() {
    if (flushing || closed) {
      return;
    }
    List<ClickEvent> batch = new ArrayList<>(Math.min(batchSize, 64));
    ClickEvent e;
    while (batch.size() < batchSize && (e = queue.poll()) != null) {
      batch.add(e);
    }
    if (batch.isEmpty()) {
      return;
    }
    flushing = true;
    Future<Void> done = replay.direct()
      ? writer.write(batch).recover(err -> {
        replay.down(err);
        return toJournal(batch);
      })
      : toJournal(batch);
    done.onComplete(ar -> {
      flushing = false;
      if (ar.succeeded()) {
        queued.addAndGet(-batch.size());
        if (diskTrouble) {
          diskTrouble = false;
          LOG.info("click journal {} is writable again", journal.path());
        }
        flush();
      } else {
        // Neither Redis nor the disk took them: keep them in memory and try again; never drop them.
        if (!diskTrouble) {
          diskTrouble = true;
          LOG.error("click journal {} is not writable ({}); holding clicks in memory and retrying", journal.path(), ar.cause().toString());
        }
        queue.addAll(batch);
        vertx.setTimer(RETRY_MS, id -> flush());
      }
    });
  }

  private Future<Void> toJournal(List<ClickEvent> batch) {
    replay.journaled();
    return journal.append(batch).onSuccess(v -> journaled.add(batch.size()));
  }

  /** Clicks in the local journal not yet replayed to Redis: 0 while Redis is healthy. */
  public long journalDepth() { return journal.depth(); }
  /** Clicks accepted but not yet handed to Redis or the journal. */
  public long queued() { return queued.get(); }
  /** Clicks accepted by this instance. */
  public long recorded() { return recorded.sum(); }
  /** Clicks written to the journal by this instance (an outage, or Redis too slow to answer). */
  public long journaled() { return journaled.sum(); }
  /** Journaled clicks replayed to Redis by this instance (its own journal and orphaned ones). */
  public long replayed() { return replay.replayed() + orphans.replayed(); }
  /** The journal file in use (the configured path, or a sibling when another instance holds that). */
  public Path journalPath() { return journal.path(); }
}
