package dev.biogate.support;

import dev.biogate.redis.LoopbackPorts;
import redis.embedded.core.ExecutableProvider;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One {@code redis-server} process (a data node or, with {@code --sentinel}, a Sentinel) on a free loopback port,
 * launched from the binary bundled in the embedded-redis artifact, the one {@code EmbeddedRedis} runs. Its working
 * directory (config, {@code nodes.conf}, log) survives {@link #kill()}, so {@link #restart()} brings the same node
 * back: a cluster node rejoins with its identity, a Sentinel with its state. Every process is killed at JVM exit.
 */
public final class RedisProcess {

  private static final List<RedisProcess> ALL = new CopyOnWriteArrayList<>();
  private static Path binary;

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> ALL.forEach(RedisProcess::destroy), "redis-processes-stop"));
  }

  private final String name;
  private final int port;
  private final Path dir;
  private final boolean sentinel;
  private Process process;

  private RedisProcess(String name, int port, Path dir, boolean sentinel) {
    this.name = name;
    this.port = port;
    this.dir = dir;
    this.sentinel = sentinel;
  }

  /**
   * Starts a server whose config is the loopback basics plus {@code config} lines; returns once it answers PING.
   * {@code clusterBus} also reserves {@code port + 10000} (Redis 6.2 puts the cluster bus there).
   */
  public static RedisProcess start(String name, List<String> config, boolean sentinel, boolean clusterBus) {
    try {
      int port = freePort(clusterBus);
      Path dir = Files.createTempDirectory("biogate-" + name + "-");
      List<String> lines = new ArrayList<>(List.of("port " + port, "bind 127.0.0.1", "daemonize no",
        "protected-mode no", "dir " + dir, "save \"\"", "appendonly no", "loglevel notice", "logfile \"\""));
      lines.addAll(config);
      Files.write(dir.resolve(sentinel ? "sentinel.conf" : "redis.conf"), lines, StandardCharsets.UTF_8);
      RedisProcess p = new RedisProcess(name, port, dir, sentinel);
      ALL.add(p);
      p.launch();
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private synchronized void launch(String... extra) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(binary().toString(), dir.resolve(sentinel ? "sentinel.conf" : "redis.conf").toString()));
    if (sentinel) {
      cmd.add("--sentinel");
    }
    cmd.addAll(List.of(extra));
    process = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
      .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("server.log").toFile())).start();
    long deadline = System.currentTimeMillis() + 10_000;
    while (!Resp.alive(port)) {
      if (!process.isAlive() || System.currentTimeMillis() > deadline) {
        throw new IOException(name + " did not start on port " + port + "; log: " + log());
      }
      sleep(5);
    }
  }

  /** The bundled binary, extracted once per JVM (the same resource {@code EmbeddedRedis} starts). */
  public static synchronized Path binary() throws IOException {
    if (binary == null) {
      binary = ExecutableProvider.newJarResourceProvider().get().toPath();
    }
    return binary;
  }

  public String name() {
    return name;
  }

  public int port() {
    return port;
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public synchronized boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** SIGKILL: the node vanishes without a goodbye, as a crashed host would. */
  public synchronized void kill() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * SIGSTOP: the server stops answering, replicating and being reconfigured, as a host that froze would, until
   * {@link #resume}.
   */
  public synchronized void pause() {
    signal("STOP");
  }

  /** SIGCONT after {@link #pause}. */
  public synchronized void resume() {
    signal("CONT");
  }

  private void signal(String name) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Starts the process again on the same port and directory (a no-op when it is running). */
  public synchronized void restart() {
    if (isAlive()) {
      return;
    }
    try {
      launch();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts the process again as a replica of the server on {@code masterPort} (a no-op when it is running). A server
   * without persistence that comes back as the master its file names comes back empty, and a replica still pointed at
   * it would resync from it, emptied too: what a careful operator avoids.
   */
  public synchronized void restartAsReplicaOf(int masterPort) {
    if (isAlive()) {
      return;
    }
    try {
      launch("--replicaof", "127.0.0.1", Integer.toString(masterPort));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Object call(Object... args) {
    return Resp.call(port, args);
  }

  public String string(Object... args) {
    return Resp.string(port, args);
  }

  public String log() {
    try {
      return Files.readString(dir.resolve("server.log"));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  private void destroy() {
    kill();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException | RuntimeException e) {
      // best effort at JVM exit
    }
  }

  @Override
  public String toString() {
    return name + "@" + port;
  }

  /**
   * Blocks the calling test thread (never an event loop) until {@code condition} holds, polling every 20 ms; a
   * check that throws counts as "not yet". Past the deadline it fails naming what was awaited.
   */
  public static void await(String what, long timeoutMs, java.util.function.BooleanSupplier condition) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    RuntimeException last = null;
    while (true) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException e) {
        last = e;
      }
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("timed out after " + timeoutMs + " ms waiting for: " + what, last);
      }
      sleep(20);
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * A free port (and its bus port), never one handed out before in this JVM, as a port or a bus: nodes started at
   * once would otherwise race for each other's ports between this check and their own bind.
   */
  /** Below the kernel's ephemeral range, so that no outgoing connection takes the port while the node is down. */
  private static int freePort(boolean withBus) throws IOException {
    return LoopbackPorts.free(withBus ? 10_000 : 0);
  }
}
