package dev.biogate.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The gateway's {@code Main} in a child JVM with zero config (no {@code BIOGATE_*}, {@code LINKTREE_*}, ... from the
 * test's environment; every port 0), started in {@code dir} behind an optional command {@code prefix} (e.g.
 * {@code setsid}), with its output read line by line as it comes.
 */
public final class ZeroConfigProcess {

  private final Process process;
  private final List<String> lines = new ArrayList<>();
  private final Thread reader;

  private ZeroConfigProcess(Process process) {
    this.process = process;
    this.reader = new Thread(this::read, "zero-config-output");
    reader.start();
  }

  public static ZeroConfigProcess start(Path dir, List<String> prefix) throws IOException {
    return start(dir, prefix, java.util.Map.of());
  }

  /** Like {@link #start(Path, List)}, with {@code env} added to the zero-config environment. */
  public static ZeroConfigProcess start(Path dir, List<String> prefix, java.util.Map<String, String> env) throws IOException {
    List<String> command = new ArrayList<>(prefix);
    // C1 only: a gateway that lives seconds spends its start-up compiling for a peak it never reaches (on 2 cores the
    // C2 threads took the CPU the test's own gateway and Redis processes needed).
    command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:TieredStopAtLevel=1",
      "-cp", System.getProperty("java.class.path"), "dev.biogate.Main"));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).directory(dir.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("BIOGATE_") || k.startsWith("LINKTREE_") || k.startsWith("LINKME_")
      || k.startsWith("KLAVIYO_") || k.equals("REDIS_URL"));
    pb.environment().put("BIOGATE_HTTP_PORT", "0");
    pb.environment().put("BIOGATE_SANDBOX_PORT", "0");
    pb.environment().put("BIOGATE_MANAGEMENT_PORT", "0"); // 9090 is Prometheus's default: often taken
    pb.environment().putAll(env);
    return new ZeroConfigProcess(pb.start());
  }

  private void read() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        synchronized (lines) {
          lines.add(line);
          lines.notifyAll();
        }
      }
    } catch (IOException ignored) {
      // the process went away
    } finally {
      synchronized (lines) {
        lines.notifyAll();
      }
    }
  }

  /** Waits until a line containing {@code text} has been written; false if the output ended or time ran out first. */
  public boolean awaitLine(String text, long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    synchronized (lines) {
      while (true) {
        if (lines.stream().anyMatch(l -> l.contains(text))) {
          return true;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || !reader.isAlive()) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(lines, left);
      }
    }
  }

  private static final Pattern LISTENING = Pattern.compile("biogate listening on (http://127\\.0\\.0\\.1:\\d+)");

  /** Waits for the start-up line naming the client listener and returns its base URL ({@code http://127.0.0.1:<port>}). */
  public String baseUrl(long timeout, TimeUnit unit) throws InterruptedException {
    if (!awaitLine("biogate listening on", timeout, unit)) {
      throw new AssertionError("not started: " + lines());
    }
    return group(LISTENING);
  }

  /** The first group of the first output line {@code line} finds something in. */
  public String group(Pattern line) {
    return lines().stream().map(line::matcher).filter(Matcher::find).map(m -> m.group(1)).findFirst()
      .orElseThrow(() -> new AssertionError("no line " + line + " in " + lines()));
  }

  /** The private {@code redis-server} the gateway started (a child of its JVM). */
  public ProcessHandle privateRedis() {
    return process.toHandle().children()
      .filter(c -> c.info().command().orElse("").contains("redis-server")).findFirst()
      .orElseThrow(() -> new AssertionError("no private redis-server under the gateway: " + lines()));
  }

  /** The PID of the private {@code redis-server} running now, if one is. */
  public java.util.Optional<Long> privateRedisPid() {
    return process.toHandle().children()
      .filter(c -> c.isAlive() && c.info().command().orElse("").contains("redis-server")).findFirst().map(ProcessHandle::pid);
  }

  /** Sends the gateway SIGTERM (a clean stop) and waits up to {@code seconds} for it to exit; whether it did. */
  public boolean terminate(long seconds) throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-TERM", Long.toString(process.pid())).start().waitFor();
    return process.waitFor(seconds, TimeUnit.SECONDS);
  }

  private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newHttpClient();

  /** {@code GET url}, the body as a string: what the zero-config tests ask the gateway. */
  public static java.net.http.HttpResponse<String> get(String url) throws IOException, InterruptedException {
    return HTTP.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).GET().build(),
      java.net.http.HttpResponse.BodyHandlers.ofString());
  }

  public Process process() {
    return process;
  }

  /** Waits up to {@code ms} for the output to end (after the process exited), then returns every line read. */
  public List<String> finish(long ms) throws InterruptedException {
    reader.join(ms);
    return lines();
  }

  public List<String> lines() {
    synchronized (lines) {
      return List.copyOf(lines);
    }
  }
}
