package dev.biogate.analytics;

import dev.biogate.redis.LoopbackPorts;
import redis.embedded.RedisServer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A private {@code redis-server} that keeps its data across a stop and restart: AOF with {@code appendfsync always}
 * in its own directory, like a production Redis that goes away and comes back (the shared test Redis has persistence
 * off, so a restart would wipe the stream, the counters and the keys, which is not the outage under test).
 */
final class DurableRedis {

  private final int port;
  private final Path dir;
  private RedisServer server;

  private DurableRedis(int port, Path dir) {
    this.port = port;
    this.dir = dir;
  }

  static DurableRedis start(Path dir) throws IOException {
    int port = LoopbackPorts.free(0);
    DurableRedis r = new DurableRedis(port, dir);
    r.launch();
    return r;
  }

  private void launch() throws IOException {
    server = RedisServer.newRedisServer().port(port).bind("127.0.0.1")
      .setting("dir " + dir.toAbsolutePath())
      .setting("appendonly yes")
      .setting("appendfsync always")
      .setting("save \"\"")
      .build();
    server.start();
    Runtime.getRuntime().addShutdownHook(new Thread(this::stopQuietly, "durable-redis-stop"));
  }

  String url() {
    return "redis://127.0.0.1:" + port;
  }

  synchronized void stop() throws IOException {
    if (server != null && server.isActive()) {
      server.stop();
    }
  }

  synchronized void restart() throws IOException {
    stop();
    launch();
  }

  private void stopQuietly() {
    try {
      stop();
    } catch (IOException | RuntimeException ignored) {
      // the JVM is going down
    }
  }
}
