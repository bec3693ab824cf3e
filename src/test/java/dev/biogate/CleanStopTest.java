package dev.biogate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A zero-config process (private Redis, sandbox upstream) stopped with SIGTERM stops the gateway first and its Redis
 * last: the log ends with "stopped cleanly" and holds no ERROR line; the start-up log names the endpoints in use.
 */
class CleanStopTest {

  @TempDir
  Path dir;

  @Test
  void zeroConfigRunStopsCleanlyOnSigterm() throws Exception {
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
      System.getProperty("java.class.path"), "dev.biogate.Main").redirectErrorStream(true).directory(dir.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("BIOGATE_") || k.startsWith("LINKTREE_") || k.startsWith("LINKME_")
      || k.startsWith("KLAVIYO_") || k.equals("REDIS_URL"));
    pb.environment().put("BIOGATE_HTTP_PORT", "0");
    pb.environment().put("BIOGATE_SANDBOX_PORT", "0");
    Process p = pb.start();
    List<String> lines = new CopyOnWriteArrayList<>();
    CountDownLatch listening = new CountDownLatch(1);
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          lines.add(line);
          if (line.contains("biogate listening on")) {
            listening.countDown();
          }
        }
      } catch (java.io.IOException ignored) {
        // the process went away
      }
    });
    reader.start();
    try {
      assertTrue(listening.await(90, TimeUnit.SECONDS), "started: " + lines);
    } finally {
      new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor(); // SIGTERM, as an orchestrator sends it
    }
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "stopped");
    reader.join(10_000);
    String log = String.join("\n", lines);
    assertEquals(143, p.exitValue(), "terminated by SIGTERM: " + log);
    assertTrue(log.contains("stopped cleanly"), log);
    assertTrue(lines.stream().noneMatch(l -> l.contains("\"level\":\"ERROR\"")), "no ERROR on a clean stop:\n" + log);
    assertTrue(log.contains("answered PING"), "says which Redis it uses and that it answered: " + log);
    assertTrue(log.contains("accepted a connection"), "says which upstream it uses and that it answered: " + log);
  }
}
