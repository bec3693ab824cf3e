package dev.biogate.analytics;

import dev.biogate.redis.RedisErrors;
import dev.biogate.redis.ThrottledLog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.atomic.LongAdder;

/**
 * Replays click journals of instances that are gone. Every {@code scanMs} the journal directory is scanned for
 * other click journal files ({@code *.journal}, {@code *.journal.<n>}, whatever name their instance was configured
 * with); a non-empty one whose lock is free belongs to nobody alive (a live instance holds its journal's lock for
 * as long as it runs). It is locked here, sent to the clicks stream chunk by chunk, then emptied and deleted while
 * still locked, so no other instance can replay it again. A chunk refused (Redis down, its shard at its ceiling) is
 * offered again after {@link #RETRY_MS}, the file still locked: a refusal used to release it and the next scan started
 * it over from its first line, so a journal longer than its shard's room (one creator's 2,600 clicks in a drill) sent
 * the same first lines forever and the rest were never counted. Only a stop releases a journal part-way; whoever
 * replays it next starts it over, which repeats what was already sent: harmless, every consumer is idempotent per
 * event id. Scans run one at a time; file I/O runs on a dedicated worker, never on an event loop.
 */
final class OrphanJournals {

  private static final Logger LOG = LoggerFactory.getLogger(OrphanJournals.class);
  private static final int READ_BUFFER = 256 * 1024;
  private static final long STOP_WAIT_MS = 10_000;
  /** Wait before a refused chunk is offered again (consumers make room, Redis comes back). */
  static final long RETRY_MS = 1_000;

  private final Vertx vertx;
  private final ClickJournal own;
  private final ClickStreamWriter writer;
  private final int chunkSize;
  private final long scanMs;
  private final WorkerExecutor worker;
  private final LongAdder replayed = new LongAdder();
  private final LongAdder refused = new LongAdder();
  private final ThrottledLog refusals = new ThrottledLog();
  private boolean scanning;
  private boolean stopped;
  private long timer = -1;

  OrphanJournals(Vertx vertx, ClickJournal own, ClickStreamWriter writer, int chunkSize, long scanMs) {
    this.vertx = vertx;
    this.own = own;
    this.writer = writer;
    this.chunkSize = chunkSize;
    this.scanMs = scanMs;
    this.worker = vertx.createSharedWorkerExecutor("biogate-orphan-journals-" + UUID.randomUUID(), 1);
  }

  /** Scans now and every {@code scanMs}. Call on the recorder's context, after its own journal is locked. */
  void start() {
    timer = vertx.setPeriodic(0, scanMs, id -> scan());
  }

  /** No new scans; a replay in progress stops after its chunk and releases its file. */
  Future<Void> stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return idle(System.currentTimeMillis() + STOP_WAIT_MS).eventually(worker::close);
  }

  private Future<Void> idle(long deadline) {
    if (!scanning || System.currentTimeMillis() > deadline) {
      return Future.succeededFuture();
    }
    return vertx.timer(10).compose(t -> idle(deadline));
  }

  long replayed() {
    return replayed.sum();
  }

  /** Chunks refused so far (each offered again {@link #RETRY_MS} later). */
  long refused() {
    return refused.sum();
  }

  private void scan() {
    if (scanning || stopped) {
      return;
    }
    scanning = true;
    worker.executeBlocking(this::lockOne, true)
      .compose(opened -> opened == null ? Future.succeededFuture(false) : replay(opened, 0, 0))
      .onComplete(ar -> {
        scanning = false;
        // After a journal replayed whole there may be more; after a failure the next scan comes on its timer.
        if (ar.succeeded() && ar.result() && !stopped) {
          vertx.runOnContext(v -> scan());
        }
      });
  }

  /** The first other, non-empty journal in the directory whose lock is free, locked; {@code null} if none. */
  private JournalFiles.Opened lockOne() throws IOException {
    Path mine = own.path();
    if (mine == null) {
      return null;
    }
    Path dir = mine.toAbsolutePath().getParent();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path p : files) {
        if (p.equals(mine) || !JournalFiles.isJournalName(p.getFileName().toString()) || Files.size(p) == 0) {
          continue;
        }
        JournalFiles.Opened o = JournalFiles.tryLock(p);
        if (o != null) {
          if (o.channel().size() > 0) {
            return o;
          }
          release(o);
        }
      }
    }
    return null;
  }

  /** Replays {@code o} from {@code offset}: true once it is replayed whole, false when stopped (released). */
  private Future<Boolean> replay(JournalFiles.Opened o, long offset, long sent) {
    if (stopped) {
      return worker.executeBlocking(() -> release(o), true).map(false);
    }
    return worker.executeBlocking(() -> read(o, offset, chunkSize), true).compose(chunk -> {
      if (chunk.lines() == 0) {
        return worker.executeBlocking(() -> finish(o, sent), true).map(true);
      }
      Future<Void> write = chunk.events().isEmpty() ? Future.succeededFuture() : writer.write(chunk.events());
      return write.compose(v -> {
        replayed.add(chunk.events().size());
        return replay(o, chunk.endOffset(), sent + chunk.events().size());
      }, err -> {
        refused.increment();
        refusals.warn(LOG, System.currentTimeMillis(), "refusals", "orphaned click journal {} not replayed yet ({}): {}"
          + " clicks sent, the rest offered again every {} ms", o.path(), RedisErrors.describe(err), sent, RETRY_MS);
        return vertx.timer(RETRY_MS).compose(t -> replay(o, offset, sent));
      });
    });
  }

  private static ClickJournal.Chunk read(JournalFiles.Opened o, long offset, int max) throws IOException {
    long size = o.channel().size();
    if (offset >= size) {
      return new ClickJournal.Chunk(java.util.List.of(), 0, offset);
    }
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(READ_BUFFER, size - offset));
    while (buf.hasRemaining() && o.channel().read(buf, offset + buf.position()) > 0) {
      // keep reading until the buffer is full or the file ends
    }
    return JournalFiles.parse(buf.array(), buf.position(), max, offset);
  }

  /** Emptied before deleted and unlocked: an instance that opened the file meanwhile finds nothing to replay. */
  private Void finish(JournalFiles.Opened o, long sent) throws IOException {
    o.channel().truncate(0);
    o.channel().force(true);
    Files.deleteIfExists(o.path());
    release(o);
    LOG.info("replayed {} clicks from the orphaned journal {} (its instance is gone)", sent, o.path());
    return null;
  }

  private static Void release(JournalFiles.Opened o) throws IOException {
    if (o.lock().isValid()) {
      o.lock().release();
    }
    o.channel().close();
    return null;
  }
}
