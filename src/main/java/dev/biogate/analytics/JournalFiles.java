package dev.biogate.analytics;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The click journal's file format and opening: one instance per file (an exclusive lock, so two gateways on one host
 * never interleave or truncate each other's lines), a torn last line closed, lines counted and parsed (one JSON
 * object per line, the stream's field names). Blocking: call on the journal's worker only.
 */
final class JournalFiles {

  /** An open, locked journal file. */
  record Opened(Path path, FileChannel channel, FileLock lock) {
  }

  static final int MAX_SIBLINGS = 16;

  /**
   * Journal files locked by this process. On Linux a file lock belongs to the process, and closing any channel on
   * the file releases it: a file held here must never be opened (and closed) again just to test its lock.
   */
  private static final java.util.Set<Path> HELD = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private JournalFiles() {
  }

  /** Locks {@code configured}, or when another instance holds it, the first free {@code <configured>.<n>}. */
  static Opened lockFirstFree(Path configured) throws IOException {
    Path base = configured.toAbsolutePath().normalize();
    Files.createDirectories(base.getParent());
    for (int n = 0; n < MAX_SIBLINGS; n++) {
      Path p = n == 0 ? base : base.resolveSibling(base.getFileName() + "." + n);
      if (HELD.contains(p)) {
        continue;
      }
      FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock = null;
      try {
        lock = ch.tryLock();
      } catch (OverlappingFileLockException heldInThisJvm) {
        // another gateway instance in this process has it
      }
      if (lock != null) {
        closeTornLine(ch);
        HELD.add(p);
        return new Opened(p, ch, lock);
      }
      ch.close();
    }
    throw new IOException("click journal " + base + " and its siblings .1-." + (MAX_SIBLINGS - 1) + " are all locked");
  }

  /** Locks exactly {@code p} when it exists and no one holds it; {@code null} otherwise. */
  static Opened tryLock(Path p) throws IOException {
    if (HELD.contains(p.toAbsolutePath().normalize()) || !Files.isRegularFile(p)) {
      return null;
    }
    FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileLock lock = null;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException heldInThisJvm) {
      // a gateway instance in this process has it: alive
    }
    if (lock == null) {
      ch.close();
      return null;
    }
    return new Opened(p, ch, lock);
  }

  /** The file's lock was released: no longer held by this process. */
  static void released(Path p) {
    HELD.remove(p);
  }

  /** Whether a file name is a click journal's: {@code *.journal} or a sibling {@code *.journal.<n>}. */
  static boolean isJournalName(String name) {
    int at = name.lastIndexOf(".journal");
    if (at <= 0) {
      return false;
    }
    String tail = name.substring(at + ".journal".length());
    return tail.isEmpty() || tail.matches("\\.[0-9]{1,3}");
  }

  /** A crash mid-append can leave a last line without its newline: end it, so new lines never glue onto it. */
  private static void closeTornLine(FileChannel ch) throws IOException {
    long size = ch.size();
    if (size == 0) {
      return;
    }
    ByteBuffer last = ByteBuffer.allocate(1);
    ch.read(last, size - 1);
    if (last.get(0) != '\n') {
      ch.write(ByteBuffer.wrap(new byte[] {'\n'}), size);
      ch.force(false);
    }
  }

  /**
   * The complete lines in {@code bytes[0, filled)} (read at {@code offset}), up to {@code max}: the clicks they hold
   * (unreadable lines are skipped but counted) and where the next read starts. A buffer without any newline (garbage
   * longer than the buffer, never written by us) is skipped whole rather than spun on.
   */
  static ClickJournal.Chunk parse(byte[] bytes, int filled, int max, long offset) {
    List<ClickEvent> events = new ArrayList<>(Math.min(max, 1024));
    int lines = 0;
    int start = 0;
    for (int i = 0; i < filled && lines < max; i++) {
      if (bytes[i] == '\n') {
        ClickEvent e = decode(new String(bytes, start, i - start, StandardCharsets.UTF_8));
        if (e != null) {
          events.add(e);
        }
        lines++;
        start = i + 1;
      }
    }
    return lines == 0 ? new ClickJournal.Chunk(List.of(), 1, offset + filled) : new ClickJournal.Chunk(events, lines, offset + start);
  }

  private static ClickEvent decode(String line) {
    try {
      return line.isBlank() ? null : ClickEvent.fromJson(new JsonObject(line));
    } catch (RuntimeException corrupt) {
      return null;
    }
  }

  static long countLines(FileChannel ch) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(1 << 20);
    long pos = 0;
    long lines = 0;
    int n;
    while ((n = ch.read(buf.clear(), pos)) > 0) {
      for (int i = 0; i < n; i++) {
        if (buf.get(i) == '\n') {
          lines++;
        }
      }
      pos += n;
    }
    return lines;
  }
}
