package dev.biogate.redis;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * Temporary directories of the private {@code redis-server} (its extracted binary, its working directory and
 * append-only file), each marked with the process that made it. A process removes its own when it stops; a process
 * killed with SIGKILL runs no clean-up, so the first directory a later process makes sweeps the temporary directory
 * for marked ones whose maker is gone. A directory is judged only by a process that can see its maker: same machine
 * boot and same PID namespace (a container sharing the directory's volume sees other PIDs, and is not to delete the
 * live directories behind them); an unmarked one (still being made, or not ours) is left alone.
 */
public final class OwnedTempDirs {

  private static final Logger LOG = LoggerFactory.getLogger(OwnedTempDirs.class);
  /** Every directory made here starts with it: the sweep looks at no other name. */
  static final String PREFIX = "biogate-redis-";
  static final String MARK = ".owner";
  /** Two readings of one process's start time may differ by rounding; a reused PID is never this close. */
  private static final long START_TOLERANCE_MS = 1_000;

  private static boolean swept;

  private OwnedTempDirs() {
  }

  /** Makes a marked directory {@code PREFIX + kind + random} in the temporary directory, after a sweep (once per process). */
  public static Path create(String kind) throws IOException {
    Path root = Path.of(System.getProperty("java.io.tmpdir"));
    synchronized (OwnedTempDirs.class) {
      if (!swept) {
        swept = true;
        sweep(root);
      }
    }
    Path dir = Files.createTempDirectory(root, PREFIX + kind); // rwx------ where permissions exist
    Files.writeString(dir.resolve(MARK), mark(ProcessHandle.current()), StandardCharsets.US_ASCII);
    return dir;
  }

  /** The mark of a directory {@code owner} made. */
  static String mark(ProcessHandle owner) {
    return "pid=" + owner.pid() + "\nstart=" + owner.info().startInstant().map(Instant::toEpochMilli).orElse(-1L)
      + "\nboot=" + bootId() + "\npidns=" + pidNamespace() + "\n";
  }

  /** Removes the marked directories under {@code root} whose maker is gone; returns how many. */
  static int sweep(Path root) {
    int removed = 0;
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, PREFIX + "*")) {
      for (Path dir : dirs) {
        Optional<Long> gone = goneOwner(dir);
        if (gone.isPresent() && remove(dir)) {
          removed++;
          LOG.info("removed {}, left by process {}, which is gone", dir, gone.get());
        }
      }
    } catch (IOException | UncheckedIOException | SecurityException e) {
      LOG.debug("could not look for leftovers in {}: {}", root, e.toString());
    }
    return removed;
  }

  /** The PID of the directory's maker if this process can tell it is gone; empty if alive, unmarked or not judged here. */
  static Optional<Long> goneOwner(Path dir) {
    Properties mark = new Properties();
    try {
      if (!Files.isDirectory(dir) || !Files.isRegularFile(dir.resolve(MARK))) {
        return Optional.empty();
      }
      try (var in = Files.newBufferedReader(dir.resolve(MARK), StandardCharsets.US_ASCII)) {
        mark.load(in);
      }
      long pid = Long.parseLong(mark.getProperty("pid", ""));
      long start = Long.parseLong(mark.getProperty("start", ""));
      if (!bootId().equals(mark.getProperty("boot")) || !pidNamespace().equals(mark.getProperty("pidns"))) {
        return Optional.empty();
      }
      boolean alive = ProcessHandle.of(pid)
        .map(p -> p.isAlive() && p.info().startInstant()
          .map(s -> start < 0 || Math.abs(s.toEpochMilli() - start) <= START_TOLERANCE_MS).orElse(true))
        .orElse(false);
      return alive ? Optional.empty() : Optional.of(pid);
    } catch (IOException | RuntimeException e) {
      return Optional.empty(); // unreadable or half-written: not ours to judge
    }
  }

  /** Removes {@code dir} and what it holds; whether it is gone. */
  public static boolean remove(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      LOG.debug("could not remove {}: {}", dir, e.toString());
    }
    return !Files.exists(dir);
  }

  private static String bootId() {
    return firstLine(Path.of("/proc/sys/kernel/random/boot_id"));
  }

  private static String pidNamespace() {
    try {
      return Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static String firstLine(Path file) {
    // One buffered read: a /proc file read a byte at a time gives only its first byte.
    try (var in = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
      String line = in.readLine();
      return line == null ? "" : line.trim();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }
}
