package dev.biogate.redis;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.core.ExecutableProvider;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private {@code redis-server} on loopback, from the binary bundled in the embedded-redis artifact. Used when no
 * Redis is configured (zero-config run) and by tests that need a Redis nobody else started. It is a real server
 * process: same protocol, same Lua, same streams as production. Persistence is off unless {@link #persistent()}
 * (the zero-config gateway's own server); the process is stopped with
 * the JVM, or, for a gateway process, by the launcher after the gateway (see {@link #stoppedByCaller()}).
 * <p>
 * The process is started here rather than through the library's {@code RedisServer}, which registers a JVM shutdown
 * hook of its own: hooks run concurrently, so the server died while the gateway was still stopping.
 */
public final class EmbeddedRedis implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRedis.class);
  private static final long READY_TIMEOUT_MS = 15_000;
  /**
   * {@code setsid} (util-linux), when there is one: the server then runs in a session and process group of its own.
   * A terminal's Ctrl-C (SIGINT) and {@code timeout}'s SIGTERM go to the whole foreground process group; without it
   * the server died at once while the gateway was still finishing its work on it. A process the JVM starts is never a
   * process-group leader, so setsid does not fork: the process started here is the server itself, stopped as such.
   */
  private static final String SETSID = Stream.of("/usr/bin/setsid", "/bin/setsid")
    .filter(f -> Files.isExecutable(Path.of(f))).findFirst().orElse(null);

  /**
   * {@code setpriv} (util-linux), when there is one: with {@code --pdeathsig} the kernel sends the server SIGTERM when
   * the thread that started it ends, which covers what no shutdown hook can: a JVM killed with SIGKILL or exiting
   * through {@code -XX:+ExitOnOutOfMemoryError}.
   */
  private static final String SETPRIV = Stream.of("/usr/bin/setpriv", "/bin/setpriv")
    .filter(f -> Files.isExecutable(Path.of(f))).findFirst().orElse(null);

  private static final String LOG_FILE = "redis-server.log";
  /**
   * The bundled binary (~10 MB), extracted once per process into a directory of its own, removed when the JVM exits
   * (and by a later process's sweep if it was killed: {@link OwnedTempDirs}).
   */
  private static String executable;

  private static synchronized String executable() throws IOException {
    if (executable == null || !Files.isExecutable(Path.of(executable))) {
      Path bin = OwnedTempDirs.create("bin-");
      // Deleted in the reverse order of these calls: the binary and the mark first, then their directory.
      bin.toFile().deleteOnExit();
      bin.resolve(OwnedTempDirs.MARK).toFile().deleteOnExit();
      File exe = ExecutableProvider.newJarResourceProvider(bin.toFile()).get();
      exe.deleteOnExit();
      executable = exe.getAbsolutePath();
    }
    return executable;
  }

  private final int port;
  private Process process;
  /** The server's own directory while it runs (its working directory and {@code dir}), removed when it stops. */
  private Path dir;
  private Thread exitHook;
  /** Set by {@link #close()}: a launch still under way (or a later one) does not leave a server behind. */
  private boolean closed;
  /** See {@link #diesWithStartingThread()}. */
  private boolean parentDeathSignal;
  /** See {@link #persistent()}. */
  private boolean persistent;

  private EmbeddedRedis(int port) {
    this.port = port;
  }

  /** Starts a server on a free loopback port. Blocks until it accepts connections: call off the event loop. */
  public static EmbeddedRedis start() throws IOException {
    return start(freePort());
  }

  /** Starts a server on the given loopback port (used to restart a stopped server on the same address). */
  public static EmbeddedRedis start(int port) throws IOException {
    EmbeddedRedis r = new EmbeddedRedis(port);
    // Registered before the process exists: a JVM stopped while the server starts still stops it.
    r.exitHook = new Thread(r::stopQuietly, "embedded-redis-stop");
    Runtime.getRuntime().addShutdownHook(r.exitHook);
    try {
      r.launch();
    } catch (IOException | RuntimeException e) {
      r.stoppedByCaller();
      throw e;
    }
    return r;
  }

  /**
   * A server on a free loopback port that is not started yet and that no hook of its own stops: the caller registers
   * it with whatever stops the process (see {@code Launcher}) first, then calls {@link #launch()}, so that there is
   * no moment when a server runs that nothing would stop.
   */
  public static EmbeddedRedis unstarted() throws IOException {
    return new EmbeddedRedis(freePort());
  }

  /**
   * The server also gets SIGTERM from the kernel when the thread that calls {@link #launch()} ends (Linux parent-death
   * signal, through {@code setpriv}; without setpriv only the caller's stop applies). Only for a launch from a thread
   * that lives as long as the process, such as the main thread of {@code java -jar}, which ends with the JVM.
   */
  public EmbeddedRedis diesWithStartingThread() {
    this.parentDeathSignal = true;
    return this;
  }

  /**
   * The server keeps an append-only file in its own directory, kept across {@link #keepRunning()}'s restarts and
   * removed when it stops: a server that dies comes back with what it acknowledged (Redis writes the file before it
   * answers, unless a disk lagging behind its last fsync makes it hold writes back for up to 2 s; {@code appendfsync
   * everysec} otherwise only matters if the machine itself goes down). Without it, a restart came back empty and
   * lost the webhooks queued but not yet handled.
   */
  public EmbeddedRedis persistent() {
    this.persistent = true;
    return this;
  }

  /** Starts the server. Blocks until it accepts connections: call off the event loop. */
  public void launch() throws IOException {
    String exe = executable();
    List<String> command = new ArrayList<>();
    if (SETSID != null) {
      command.add(SETSID);
    }
    if (parentDeathSignal && SETPRIV != null) {
      Collections.addAll(command, SETPRIV, "--pdeathsig", "TERM");
    }
    Collections.addAll(command, exe, "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "",
      "--appendonly", persistent ? "yes" : "no", "--protected-mode", "yes", "--maxmemory-policy", "noeviction");
    if (persistent) {
      // Rewritten only after 1 GB of growth, as redis/redis.conf does: a webhook burst would otherwise fork the
      // server to rewrite its file every few seconds.
      Collections.addAll(command, "--appendfsync", "everysec", "--auto-aof-rewrite-min-size", "1gb");
    }
    Path log;
    synchronized (this) {
      if (closed) {
        throw new IOException("the private redis-server was stopped before it started");
      }
      // A directory of its own: run from the caller's, the server would load any dump.rdb lying there (one written
      // by a newer Redis makes it exit at once). Its output goes to a log there, quoted if it fails to start.
      if (dir == null) {
        dir = OwnedTempDirs.create(""); // a restart of a persistent server reuses its directory
      }
      log = dir.resolve(LOG_FILE);
      Collections.addAll(command, "--dir", dir.toString());
      // Started under the lock close() takes: a stop either comes first (and nothing starts) or sees the process.
      process = new ProcessBuilder(command).directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
    while (true) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
        break;
      } catch (IOException notYet) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          process.destroyForcibly();
          String why = process.isAlive() ? " in time" : " (exit " + process.exitValue() + ")";
          String last = lastLine(log);
          if (!persistent) {
            removeDir(); // a persistent server's directory holds its file: kept for the next start, removed by close()
          }
          throw new IOException("redis-server did not start on 127.0.0.1:" + port + why + (last.isEmpty() ? "" : ": " + last));
        }
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while starting redis-server", e);
        }
      }
    }
    LOG.info("started private redis-server on 127.0.0.1:{}", port);
  }

  /**
   * Leaves stopping to the caller instead of a JVM shutdown hook: hooks run concurrently, so a process that must
   * stop its gateway before its Redis (no errors on a clean stop) stops the server itself, last.
   */
  public EmbeddedRedis stoppedByCaller() {
    if (exitHook != null) {
      Runtime.getRuntime().removeShutdownHook(exitHook);
      exitHook = null;
    }
    return this;
  }

  public int port() {
    return port;
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public boolean isActive() {
    return process != null && process.isAlive();
  }

  /** Stops the server process; {@link #restart()} brings it back on the same port. */
  public synchronized void stop() throws IOException {
    stop(5_000);
  }

  /** Stops the server: SIGTERM, and SIGKILL if it has not exited within {@code graceMs} (at once for 0). */
  public synchronized void stop(long graceMs) throws IOException {
    if (process != null && process.isAlive()) {
      process.destroy();
      try {
        if (graceMs <= 0 || !process.waitFor(graceMs, TimeUnit.MILLISECONDS)) {
          process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
    removeDir();
  }

  /**
   * Runs {@code EVAL script 0} on a connection of its own and returns its integer reply: for the launcher's last look
   * at the server before it stops it, when the gateway's clients are closed. Blocks for at most {@code timeoutMs}.
   */
  public long evalInteger(String script, int timeoutMs) throws IOException {
    byte[] body = script.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    String head = "*3\r\n$4\r\nEVAL\r\n$" + body.length + "\r\n";
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), timeoutMs);
      s.setSoTimeout(timeoutMs);
      var out = s.getOutputStream();
      out.write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.write(body);
      out.write("\r\n$1\r\n0\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.flush();
      var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
      String line = in.readLine();
      if (line == null || !line.startsWith(":")) {
        throw new IOException("redis-server answered " + (line == null ? "nothing" : line));
      }
      return Long.parseLong(line.substring(1).trim());
    }
  }

  /** The server's last log line (its reason, when it exits at start-up), without its pid and time prefix. */
  private static String lastLine(Path log) {
    try (Stream<String> lines = Files.lines(log)) {
      String last = lines.filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse("");
      int mark = last.indexOf(" # ");
      return (mark >= 0 ? last.substring(mark + 3) : last).trim();
    } catch (IOException | UncheckedIOException e) {
      return "";
    }
  }

  private void removeDir() {
    Path d = dir;
    dir = null;
    if (d != null) {
      OwnedTempDirs.remove(d);
    }
  }

  /**
   * Starts the server again whenever it exits without {@link #close()} (killed, crashed, out of memory), on the same
   * port, so a zero-config gateway recovers by itself as from any Redis restart: it reconnects, and the server comes
   * back with what it held when {@link #persistent()}, empty otherwise. The pause before a start doubles, up to
   * {@value #MAX_RESTART_PAUSE_MS} ms, while the server keeps dying within {@value #YOUNG_MS} ms of its start. The starts happen on a thread of their own that
   * lives as long as the process, so with {@link #diesWithStartingThread()} the kernel's parent-death signal still
   * stops the server with the JVM.
   */
  public EmbeddedRedis keepRunning() {
    Thread keeper = new Thread(this::keep, "private-redis-keeper");
    keeper.setDaemon(true);
    keeper.start();
    return this;
  }

  private static final long MIN_RESTART_PAUSE_MS = 500;
  private static final long MAX_RESTART_PAUSE_MS = 30_000;
  private static final long YOUNG_MS = 10_000;

  private void keep() {
    long pauseMs = MIN_RESTART_PAUSE_MS / 2; // doubled below: a first death soon after start-up waits the minimum
    long startedAt = System.nanoTime();
    while (true) {
      Process p;
      synchronized (this) {
        p = process;
      }
      String how;
      try {
        if (p == null) {
          return;
        }
        int status = p.waitFor();
        how = status > 128 ? "killed by signal " + (status - 128) : "status " + status;
      } catch (InterruptedException e) {
        return;
      }
      synchronized (this) {
        if (closed) {
          return;
        }
        if (!persistent) {
          removeDir();
        }
      }
      boolean young = System.nanoTime() - startedAt < TimeUnit.MILLISECONDS.toNanos(YOUNG_MS);
      pauseMs = young ? Math.min(MAX_RESTART_PAUSE_MS, pauseMs * 2) : MIN_RESTART_PAUSE_MS;
      LOG.warn("the private redis-server on 127.0.0.1:{} exited ({}); starting it again in {} ms on the same port{}",
        port, how, pauseMs, persistent ? ", from its append-only file" : " (what it held is gone: it persists nothing)");
      while (true) {
        try {
          Thread.sleep(pauseMs);
          startedAt = System.nanoTime();
          launch();
          break;
        } catch (InterruptedException e) {
          return;
        } catch (IOException e) {
          synchronized (this) {
            if (closed) {
              return;
            }
          }
          pauseMs = Math.min(MAX_RESTART_PAUSE_MS, pauseMs * 2);
          LOG.warn("could not start the private redis-server again ({}); next try in {} ms", e.getMessage(), pauseMs);
        }
      }
    }
  }

  public synchronized void restart() throws IOException {
    stop();
    launch();
  }

  private void stopQuietly() {
    try {
      close();
    } catch (IOException | RuntimeException e) {
      // JVM is going down; nothing useful to do.
    }
  }

  /** Stops the server for good: a launch under way ends without a server, and none may follow. */
  @Override
  public void close() throws IOException {
    close(5_000);
  }

  /** {@link #close()}, waiting at most {@code graceMs} for the server to exit on SIGTERM before killing it. */
  public void close(long graceMs) throws IOException {
    synchronized (this) {
      closed = true;
    }
    stop(graceMs);
  }

  static int freePort() throws IOException {
    return LoopbackPorts.free(0); // below the ephemeral range: a restart on the same port finds it free
  }
}
