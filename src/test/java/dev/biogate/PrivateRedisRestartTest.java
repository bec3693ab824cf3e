package dev.biogate;

import dev.biogate.support.Resp;
import dev.biogate.support.ZeroConfigProcess;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A zero-config gateway whose private {@code redis-server} dies (killed, crashed) starts it again on the same port,
 * from its append-only file, and recovers by itself. It used to stay without Redis until it was restarted: cached copies were still served, but
 * every webhook got 503 and nothing was counted, for good.
 */
class PrivateRedisRestartTest {

  private static final Pattern REDIS = Pattern.compile("started private redis-server on 127\\.0\\.0\\.1:(\\d+)");

  @TempDir
  Path dir;

  @Test
  void aKilledPrivateRedisIsStartedAgainAndTheGatewayRecovers() throws Exception {
    ZeroConfigProcess gateway = ZeroConfigProcess.start(dir, List.of());
    try {
      String base = gateway.baseUrl(90, TimeUnit.SECONDS);
      assertEquals("healthy", redisStatus(base));
      int port = Integer.parseInt(gateway.group(REDIS));
      // What the server acknowledged before it died comes back with it (a restart used to come back empty, losing
      // the webhooks queued but not handled yet).
      assertEquals("OK", Resp.string(port, "SET", "restart-test-marker", "kept"));
      // In the file before the kill: with appendfsync everysec a server whose last fsync is still running holds its
      // writes back for up to 2 s while it answers (as the README says); a full run on a busy host lost the marker so.
      ProcessHandle first = gateway.privateRedis();
      assertTrue(pollUntil(System.nanoTime() + TimeUnit.SECONDS.toNanos(10), () -> inAppendOnlyFile(first, "restart-test-marker"),
        found -> found), "the marker reached the append-only file");
      first.destroyForcibly();
      first.onExit().get(10, TimeUnit.SECONDS);

      assertTrue(gateway.awaitLine("exited (killed by signal 9); starting it again", 30, TimeUnit.SECONDS),
        "the gateway saw its Redis go: " + gateway.lines());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      // A new server first: /health may report Redis as of up to a second ago (HealthProbeCostTest).
      long secondPid = pollUntil(deadline, () -> gateway.privateRedisPid().orElse(first.pid()), pid -> pid != first.pid());
      assertNotEquals(first.pid(), secondPid, "a new private redis-server: " + gateway.lines());
      // Listening on the same port (its process exists a moment before it does; a full run once read it too early,
      // while /health still reported the probe from before the kill).
      assertTrue(poll(deadline, () -> Resp.alive(port), true), "the new server answers on port " + port + ": " + gateway.lines());
      String status = poll(deadline, () -> redisStatus(base), "healthy");
      assertEquals("healthy", status, "Redis is back for the gateway: " + gateway.lines());
      assertEquals("kept", Resp.string(port, "GET", "restart-test-marker"), "acknowledged writes survive the restart");
      // A first read (nothing cached yet) needs the budget, which the instance restores into the empty Redis first.
      int read = poll(deadline, () -> ZeroConfigProcess.get(base + "/v1/profiles/demo").statusCode(), 200);
      assertEquals(200, read, "a miss is served again: " + gateway.lines());
    } finally {
      assertTrue(gateway.terminate(30), "stopped");
    }
    // The clean stop closes the server for good: it is not taken for another death and started again.
    assertEquals(1, gateway.finish(5_000).stream().filter(l -> l.contains("starting it again")).count(), gateway.lines().toString());
  }

  /**
   * A private Redis that keeps dying soon after each start is started again after a pause that doubles (0.5 s, 1 s,
   * 2 s, ... up to 30 s), not in a tight loop.
   */
  @Test
  void aPrivateRedisDyingAgainAndAgainIsStartedAfterLongerAndLongerPauses() throws Exception {
    ZeroConfigProcess gateway = ZeroConfigProcess.start(dir, List.of());
    try {
      gateway.baseUrl(90, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      long pid = gateway.privateRedis().pid();
      int starts = 1;
      for (long pauseMs : new long[] {500, 1_000, 2_000}) {
        ProcessHandle redis = ProcessHandle.of(pid).orElseThrow();
        redis.destroyForcibly();
        redis.onExit().get(10, TimeUnit.SECONDS);
        assertTrue(gateway.awaitLine("starting it again in " + pauseMs + " ms", 30, TimeUnit.SECONDS),
          "a pause of " + pauseMs + " ms: " + gateway.lines());
        long dead = pid;
        pid = pollUntil(deadline, () -> gateway.privateRedisPid().orElse(dead), p -> p != dead);
        assertNotEquals(dead, pid, "started again: " + gateway.lines());
        // Killed once it is up, not while the gateway still waits for it to answer (a failed start, another line).
        int started = ++starts;
        assertEquals(started, (long) pollUntil(deadline, () -> gateway.lines().stream().filter(l -> l.contains("started private redis-server")).count(),
          n -> n >= started), "up again: " + gateway.lines());
      }
    } finally {
      assertTrue(gateway.terminate(30), "stopped");
    }
  }

  /**
   * Whether an append-only file of {@code redis} holds {@code text}: any {@code *.aof} under its working directory,
   * which the gateway starts it in (its {@code --dir}; Redis rewrites its command line, so that is read from
   * {@code /proc}). The bundled server may be a version keeping one file or a directory of them.
   */
  private static boolean inAppendOnlyFile(ProcessHandle redis, String text) throws Exception {
    Path dir = Path.of("/proc", Long.toString(redis.pid()), "cwd").toRealPath();
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(dir)) {
      for (Path f : files.filter(f -> f.getFileName().toString().contains(".aof")).toList()) {
        if (new String(java.nio.file.Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1).contains(text)) {
          return true;
        }
      }
    }
    return false;
  }

  /** Asks until the answer is {@code wanted} or the deadline ({@code System.nanoTime()}) passes; the last answer. */
  private static <T> T poll(long deadline, java.util.concurrent.Callable<T> ask, T wanted) throws Exception {
    return pollUntil(deadline, ask, wanted::equals);
  }

  /** Asks until an answer passes {@code done} or the deadline passes; the last answer. */
  private static <T> T pollUntil(long deadline, java.util.concurrent.Callable<T> ask, java.util.function.Predicate<T> done)
      throws Exception {
    T answer = ask.call();
    while (!done.test(answer) && System.nanoTime() < deadline) {
      Thread.sleep(200);
      answer = ask.call();
    }
    return answer;
  }

  private static String redisStatus(String base) throws Exception {
    HttpResponse<String> r = ZeroConfigProcess.get(base + "/health");
    return new JsonObject(r.body()).getJsonObject("services").getJsonObject("redis").getString("status");
  }
}
