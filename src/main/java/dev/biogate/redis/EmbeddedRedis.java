package dev.biogate.redis;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * A private {@code redis-server} on loopback, from the binary bundled in the embedded-redis artifact. Used when no
 * Redis is configured (zero-config run) and by tests that need a Redis nobody else started. It is a real server
 * process: same protocol, same Lua, same streams as production. Persistence is off; the process is stopped with
 * the JVM.
 */
public final class EmbeddedRedis implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRedis.class);

  private final int port;
  private RedisServer server;
  private Thread exitHook;

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
    r.launch();
    r.exitHook = new Thread(r::stopQuietly, "embedded-redis-stop");
    Runtime.getRuntime().addShutdownHook(r.exitHook);
    return r;
  }

  private void launch() throws IOException {
    server = RedisServer.newRedisServer()
      .port(port)
      .bind("127.0.0.1")
      .setting("save \"\"")
      .setting("appendonly no")
      .setting("protected-mode yes")
      .setting("maxmemory-policy noeviction")
      .build();
    server.start();
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
    return server != null && server.isActive();
  }

  /** Stops the server process; {@link #restart()} brings it back on the same port. */
  public synchronized void stop() throws IOException {
    if (server != null && server.isActive()) {
      server.stop();
    }
  }

  public synchronized void restart() throws IOException {
    stop();
    launch();
  }

  private void stopQuietly() {
    try {
      stop();
    } catch (IOException | RuntimeException e) {
      // JVM is going down; nothing useful to do.
    }
  }

  @Override
  public void close() throws IOException {
    stop();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }
}
