package dev.biogate;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A zero-config process stopped with SIGTERM while it is still starting (a crash loop, a CI timeout, an orchestrator
 * giving up) takes its private {@code redis-server} with it: the server was once left running, orphaned, with no
 * stop line in the log, because the hook that stops it was only registered once start-up had finished.
 */
class StartupSignalTest {

  @TempDir
  Path dir;

  /**
   * Signals the gateway as soon as its log shows the given start-up step: right after the private Redis accepts
   * connections, and later, once the sandbox listens and the gateway itself is being started.
   */
  @ParameterizedTest
  @ValueSource(strings = {"started private redis-server", "started the sandbox upstream"})
  void sigtermDuringStartUpStopsThePrivateRedis(String step) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
      System.getProperty("java.class.path"), "dev.biogate.Main").redirectErrorStream(true).directory(dir.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("BIOGATE_") || k.startsWith("LINKTREE_") || k.startsWith("LINKME_")
      || k.startsWith("KLAVIYO_") || k.equals("REDIS_URL"));
    pb.environment().put("BIOGATE_HTTP_PORT", "0");
    pb.environment().put("BIOGATE_SANDBOX_PORT", "0");
    pb.environment().put("BIOGATE_MANAGEMENT_PORT", "0");
    Process p = pb.start();
    List<String> lines = new CopyOnWriteArrayList<>();
    CountDownLatch reached = new CountDownLatch(1);
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          lines.add(line);
          if (line.contains(step)) {
            reached.countDown();
          }
        }
      } catch (IOException ignored) {
        // the process went away
      }
    });
    reader.start();
    long redisPid;
    try {
      assertTrue(reached.await(90, TimeUnit.SECONDS), "reached '" + step + "': " + lines);
      redisPid = p.toHandle().children()
        .filter(c -> c.info().command().orElse("").contains("redis-server")).findFirst()
        .orElseThrow(() -> new AssertionError("no private redis-server under the gateway: " + lines)).pid();
      new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
    } catch (Throwable t) {
      p.destroyForcibly();
      throw t;
    }
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the gateway exited on SIGTERM: " + lines);
    reader.join(10_000);
    String log = String.join("\n", lines);
    // The gateway waits for its server's exit before it exits itself; the bound only keeps a failure from hanging.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (running(redisPid) && System.nanoTime() < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
    boolean orphaned = running(redisPid);
    if (orphaned) {
      ProcessHandle.of(redisPid).ifPresent(ProcessHandle::destroyForcibly);
    }
    assertFalse(orphaned, "the private redis-server " + redisPid + " outlived its gateway:\n" + log);
    assertTrue(log.contains("stopping during start-up"), "says it stops while starting:\n" + log);
  }

  /** Alive and not a zombie, read from /proc (a reaped or dead process counts as gone). */
  private static boolean running(long pid) throws IOException {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (NoSuchFileException gone) {
      return false;
    }
  }
}
