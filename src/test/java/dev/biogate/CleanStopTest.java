package dev.biogate;

import dev.biogate.support.ZeroConfigProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A zero-config process (private Redis, sandbox upstream) stopped with SIGTERM stops the gateway first and its Redis
 * last: the log ends with "stopped cleanly" and holds no ERROR line; the start-up log names the endpoints in use. The
 * same holds when the signal goes to the whole process group, as Ctrl-C in a terminal (SIGINT) and {@code timeout}
 * send it: the private Redis must not receive it and die under the stopping gateway.
 */
class CleanStopTest {

  @TempDir
  Path dir;

  @Test
  void zeroConfigRunStopsCleanlyOnSigterm() throws Exception {
    List<String> lines = runAndStop(List.of(), "-TERM", false);
    String log = String.join("\n", lines);
    assertTrue(log.contains("answered PING"), "says which Redis it uses and that it answered: " + log);
    assertTrue(log.contains("accepted a connection"), "says which upstream it uses and that it answered: " + log);
  }

  @Test
  void ctrlCToTheWholeProcessGroupStillStopsTheGatewayBeforeItsRedis() throws Exception {
    // setsid makes the JVM a process-group leader, as a shell does for a foreground job; the signal then goes to the
    // group (kill -INT -- -pgid), which is what the terminal does on Ctrl-C.
    List<String> lines = runAndStop(List.of("setsid"), "-INT", true);
    List<String> afterStop = lines.subList(indexOf(lines, "stopping:"), lines.size());
    assertTrue(afterStop.stream().noneMatch(l -> l.contains("\"level\":\"WARN\"")),
      "nothing failed while stopping (the private Redis outlived the gateway):\n" + String.join("\n", afterStop));
  }

  /**
   * A zero-config stop keeps nothing: it says how many accepted webhook events go with the private Redis. It used to
   * discard them without a word and say "stopped cleanly" (a drill: 1,695 accepted, a backlog of 340 at the stop).
   * Here the one event waits for a destination that refuses connections.
   */
  @Test
  void aZeroConfigStopSaysWhatAcceptedEventsGoWithThePrivateRedis() throws Exception {
    Path conf = dir.resolve("down.json");
    java.nio.file.Files.writeString(conf, "{\"destinations\": {\"endpoints\": [{\"name\": \"down\","
      + " \"url\": \"http://127.0.0.1:1/hook\", \"events\": [\"*\"]}]}}");
    String secret = "lm_stop_test_secret";
    ZeroConfigProcess gateway = ZeroConfigProcess.start(dir, List.of(),
      java.util.Map.of("BIOGATE_CONFIG", conf.toString(), "LINKME_WEBHOOK_SECRET", secret));
    try {
      String base = gateway.baseUrl(90, TimeUnit.SECONDS);
      String body = "{\"id\":\"evt_stop_1\",\"event\":\"link.claim\",\"ts\":\"2026-12-05T10:00:00Z\","
        + "\"app_id\":\"app_test\",\"data\":{\"link_id\":\"lnk_demo_01\"}}";
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec(secret.getBytes(java.nio.charset.StandardCharsets.UTF_8), "HmacSHA256"));
      String signature = "sha256=" + java.util.HexFormat.of().formatHex(mac.doFinal(body.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      java.net.http.HttpResponse<String> answer = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/webhooks/linkme"))
          .header("Content-Type", "application/json").header("X-LinkMe-Signature", signature)
          .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(200, answer.statusCode(), answer.body());
    } finally {
      assertTrue(gateway.terminate(30), "stopped");
    }
    List<String> lines = gateway.finish(10_000);
    String log = String.join("\n", lines);
    // README: "whose number the stop logs as a warning": the line (one JSON object) is at WARN.
    List<String> told = lines.stream()
      .filter(l -> l.contains("1 accepted webhook event not yet handled or forwarded goes with the private redis-server")).toList();
    assertEquals(1, told.size(), log);
    assertTrue(told.get(0).contains("\"level\":\"WARN\""), "logged as a warning: " + told.get(0));
  }

  /**
   * "The whole stop is bounded by http.shutdownGraceMs + 5 s": with the private Redis frozen (SIGSTOP: every command
   * times out, and a SIGTERM is not acted on), a stop took that deadline, then up to 5 s waiting for the frozen server
   * to exit on SIGTERM before killing it: 22 s against a deadline of 15 s in a drill. Past the deadline the private
   * server is now killed at once (it holds nothing that outlives the process). Grace 500 ms here: deadline 5.5 s.
   */
  @Test
  void aStopKeepsToItsDeadlineWithThePrivateRedisFrozen() throws Exception {
    Path conf = dir.resolve("stop.json");
    java.nio.file.Files.writeString(conf, "{\"http\": {\"shutdownGraceMs\": 500}}");
    ZeroConfigProcess gateway = ZeroConfigProcess.start(dir, List.of(), java.util.Map.of("BIOGATE_CONFIG", conf.toString()));
    Process p = gateway.process();
    ProcessHandle redis = null;
    long tookMs;
    try {
      assertTrue(gateway.awaitLine("biogate listening on", 90, TimeUnit.SECONDS), "started: " + gateway.lines());
      redis = gateway.privateRedis();
      new ProcessBuilder("kill", "-STOP", Long.toString(redis.pid())).start().waitFor();
      long start = System.nanoTime();
      new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "stopped");
      tookMs = (System.nanoTime() - start) / 1_000_000;
    } finally {
      if (p.isAlive()) {
        p.destroyForcibly();
      }
      if (redis != null && redis.isAlive()) {
        new ProcessBuilder("kill", "-CONT", Long.toString(redis.pid())).start().waitFor();
        redis.destroyForcibly();
      }
    }
    String log = String.join("\n", gateway.finish(10_000));
    assertTrue(log.contains("deadline 5500 ms"), log);
    // The deadline, plus the JVM's own exit (about 1 s after the last line here) and this machine's scheduling:
    // below the 5 s wait it used to add (10.9 s in all before the fix).
    assertTrue(tookMs < 5_500 + 3_500, "the stop took " + tookMs + " ms against a deadline of 5500 ms:\n" + log);
    ProcessHandle server = redis;
    assertTrue(server.onExit().get(10, TimeUnit.SECONDS) != null && !server.isAlive(), "the private Redis outlived the process");
  }

  /** Field 5 of /proc/PID/stat: the process group (the command, field 2, may hold spaces: read after its ')'). */
  private static long processGroup(long pid) throws java.io.IOException {
    String stat = java.nio.file.Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[2]);
  }

  private static int indexOf(List<String> lines, String text) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains(text)) {
        return i;
      }
    }
    throw new AssertionError("no line with '" + text + "' in:\n" + String.join("\n", lines));
  }

  /** Runs a zero-config process (behind {@code prefix}), waits until it listens, signals it, checks a clean stop. */
  private List<String> runAndStop(List<String> prefix, String signal, boolean wholeGroup) throws Exception {
    ZeroConfigProcess gateway = ZeroConfigProcess.start(dir, prefix);
    Process p = gateway.process();
    try {
      assertTrue(gateway.awaitLine("biogate listening on", 90, TimeUnit.SECONDS), "started: " + gateway.lines());
      if (wholeGroup) {
        // Whether the race below shows or not, the private Redis must sit outside the group the signal goes to.
        ProcessHandle redis = gateway.privateRedis();
        assertTrue(processGroup(redis.pid()) != p.pid(), "the private redis-server is in the gateway's process group");
      }
    } finally {
      // SIGTERM to the process, as an orchestrator sends it; or a signal to its whole group, as a terminal sends it
      String target = wholeGroup ? "-" + p.pid() : Long.toString(p.pid());
      new ProcessBuilder("kill", signal, "--", target).start().waitFor();
    }
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "stopped");
    List<String> lines = gateway.finish(10_000);
    String log = String.join("\n", lines);
    assertEquals("-TERM".equals(signal) ? 143 : 130, p.exitValue(), "terminated by the signal: " + log);
    assertTrue(log.contains("stopped cleanly"), log);
    assertTrue(lines.stream().noneMatch(l -> l.contains("\"level\":\"ERROR\"")), "no ERROR on a clean stop:\n" + log);
    return lines;
  }
}
