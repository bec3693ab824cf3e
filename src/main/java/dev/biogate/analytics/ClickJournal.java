package dev.biogate.analytics;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The local append-only journal click events go to while Redis is unreachable: one JSON line per event (the stream's
 * field names), appended in order, read back in order by the replay, emptied once every line has been replayed.
 *
 * <p>Durability: an append is written to the file before its future completes, so a process crash loses nothing
 * appended. fsync is group-committed every {@code fsyncIntervalMs} (default 200 ms): a power loss or kernel crash can
 * lose at most that window, in exchange for not paying one disk flush per batch during an outage; {@code 0} fsyncs
 * every append. A torn last line (crash mid-write) is closed with a newline on open and skipped when read.
 *
 * <p>All file I/O runs on one dedicated worker thread, in submission order, never on an event loop. The file is
 * locked while open: a second instance on the same host configured with the same path uses {@code <path>.1},
 * {@code .2}, ... instead of sharing it.
 */
final class ClickJournal {

  /** Events read back in one replay step, and where the next step starts. */
  record Chunk(List<ClickEvent> events, int lines, long endOffset) {
  }

  private static final int READ_BUFFER = 256 * 1024;

  private final Vertx vertx;
  private final Path configured;
  private final long fsyncIntervalMs;
  private final WorkerExecutor worker;
  private final AtomicLong depth = new AtomicLong();
  private volatile boolean dirty;
  private volatile Path path;
  private FileChannel channel;
  private FileLock lock;
  private long readOffset;
  private long fsyncTimer = -1;

  ClickJournal(Vertx vertx, Path configured, long fsyncIntervalMs) {
    this.vertx = vertx;
    this.configured = configured;
    this.fsyncIntervalMs = fsyncIntervalMs;
    this.worker = vertx.createSharedWorkerExecutor("biogate-click-journal-" + UUID.randomUUID(), 1);
  }

  /** The file the configuration names; {@link #path()} differs when another process on this host holds it. */
  Path configured() {
    return configured;
  }

  /** Whether the open journal is another file than the configured one (held by another process on this host). */
  boolean usesSibling() {
    return path != null && !path.equals(configured.toAbsolutePath().normalize());
  }

  /** Opens and locks the file; completes with how many events it holds (left behind by a previous run). */
  Future<Long> open() {
    return worker.executeBlocking(() -> {
      JournalFiles.Opened opened = JournalFiles.lockFirstFree(configured);
      channel = opened.channel();
      lock = opened.lock();
      path = opened.path();
      depth.set(JournalFiles.countLines(channel));
      return depth.get();
    }, true).onSuccess(n -> {
      if (fsyncIntervalMs > 0) {
        fsyncTimer = vertx.setPeriodic(fsyncIntervalMs, id -> {
          if (dirty) {
            worker.executeBlocking(this::sync, true);
          }
        });
      }
    });
  }

  /** Appends the events, in order; complete once written (fsynced at the next group commit). */
  Future<Void> append(List<ClickEvent> events) {
    return worker.executeBlocking(() -> {
      StringBuilder lines = new StringBuilder(events.size() * 160);
      for (ClickEvent e : events) {
        lines.append(e.toJson().encode()).append('\n');
      }
      ByteBuffer buf = StandardCharsets.UTF_8.encode(lines.toString());
      long pos = channel.size();
      while (buf.hasRemaining()) {
        pos += channel.write(buf, pos);
      }
      depth.addAndGet(events.size());
      dirty = true;
      if (fsyncIntervalMs == 0) {
        sync();
      }
      return null;
    }, true);
  }

  /** Up to {@code max} events from the replay position (not consumed until {@link #commit}). */
  Future<Chunk> read(int max) {
    return worker.executeBlocking(() -> {
      long size = channel.size();
      if (readOffset >= size) {
        return new Chunk(List.of(), 0, readOffset);
      }
      ByteBuffer buf = ByteBuffer.allocate((int) Math.min(READ_BUFFER, size - readOffset));
      while (buf.hasRemaining() && channel.read(buf, readOffset + buf.position()) > 0) {
        // keep reading until the buffer is full or the file ends
      }
      return JournalFiles.parse(buf.array(), buf.position(), max, readOffset);
    }, true);
  }

  /** The chunk's events reached Redis: the replay position moves past them. */
  Future<Void> commit(Chunk chunk) {
    return worker.executeBlocking(() -> {
      readOffset = chunk.endOffset();
      depth.updateAndGet(d -> Math.max(0, d - chunk.lines()));
      return null;
    }, true);
  }

  /** Empties the file if every line in it has been replayed; {@code false} if lines were appended meanwhile. */
  Future<Boolean> truncateIfDrained() {
    return worker.executeBlocking(() -> {
      if (channel.size() != readOffset) {
        return false;
      }
      channel.truncate(0);
      channel.force(true);
      readOffset = 0;
      depth.set(0);
      dirty = false;
      return true;
    }, true);
  }

  /** Flushes to disk, releases the lock and closes the file. */
  Future<Void> close() {
    if (fsyncTimer >= 0) {
      vertx.cancelTimer(fsyncTimer);
    }
    return worker.<Void>executeBlocking(() -> {
      if (channel != null) {
        channel.force(true);
        lock.release();
        channel.close();
        channel = null;
        JournalFiles.released(path);
      }
      return null;
    }, true).eventually(worker::close);
  }

  /** Events in the file not yet replayed to Redis. */
  long depth() {
    return depth.get();
  }

  /** The file actually in use (the configured path, or a sibling when another instance holds that). */
  Path path() {
    return path;
  }

  private Void sync() throws IOException {
    if (channel != null && dirty) {
      dirty = false;
      channel.force(false);
    }
    return null;
  }
}
