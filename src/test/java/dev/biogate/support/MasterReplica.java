package dev.biogate.support;

import dev.biogate.redis.EmbeddedRedis;
import dev.biogate.redis.LoopbackPorts;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import redis.embedded.RedisServer;


/**
 * A real master and one replica of it (two {@code redis-server} processes on loopback ports), for tests of what
 * waits for a replica. {@link #start} completes once the replica is in sync.
 */
public final class MasterReplica {

  private final EmbeddedRedis master;
  private final RedisServer replica;
  private final java.nio.file.Path replicaDir;
  private final Redis replicaClient;
  private final String replicaUrl;

  private MasterReplica(EmbeddedRedis master, RedisServer replica, java.nio.file.Path replicaDir, Redis replicaClient) {
    this.replicaDir = replicaDir;
    this.master = master;
    this.replica = replica;
    this.replicaClient = replicaClient;
    this.replicaUrl = "redis://127.0.0.1:" + replica.ports().get(0);
  }

  public static Future<MasterReplica> start(Vertx vertx) {
    return vertx.executeBlocking(() -> {
      EmbeddedRedis master = EmbeddedRedis.start();
      int port = LoopbackPorts.free(0);
      // A directory of its own for the RDB a full sync writes: in the binary's directory it kept that directory from
      // being removed at exit.
      java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("biogate-replica-");
      RedisServer replica = RedisServer.newRedisServer().port(port).bind("127.0.0.1").setting("save \"\"")
        .setting("appendonly no").setting("dir " + dir).setting("replicaof 127.0.0.1 " + master.port()).build();
      replica.start();
      return new MasterReplica(master, replica, dir, Redis.createClient(vertx, "redis://127.0.0.1:" + port));
    }).compose(mr -> Eventually.until(vertx, () -> mr.replicaClient.send(Request.cmd(Command.INFO).arg("replication"))
      .map(r -> r.toString().contains("master_link_status:up")), 10_000, "the replica in sync").map(mr));
  }

  public String masterUrl() {
    return master.url();
  }

  /** The replica's URL (a gateway pointed at it once it is promoted: {@code REPLICAOF NO ONE}). */
  public String replicaUrl() {
    return replicaUrl;
  }

  /** A client of the replica (reads, {@code DEBUG SLEEP}). */
  public Redis replica() {
    return replicaClient;
  }

  /**
   * Makes the replica stop acknowledging for {@code seconds} ({@code DEBUG SLEEP}) and completes once the master sees
   * it: a write followed by {@code WAIT 1 50} answers 0. Sending the sleep alone raced the next write, which the
   * replica could still acknowledge before its sleep began.
   */
  public Future<Void> stallReplica(Vertx vertx, int seconds) {
    replicaClient.send(Request.cmd(Command.DEBUG).arg("SLEEP").arg(seconds));
    Redis probe = Redis.createClient(vertx, master.url());
    return Eventually.until(vertx, () -> probe.send(Request.cmd(Command.INCR).arg("biogate-test:stall-probe"))
        .compose(v -> probe.send(Request.cmd(Command.WAIT).arg(1).arg(50)))
        .map(acked -> acked.toInteger() == 0), seconds * 1000L, "the replica no longer acknowledging")
      .eventually(probe::close);
  }

  public Future<Void> stop(Vertx vertx) {
    return replicaClient.close().eventually(() -> vertx.executeBlocking(() -> {
      replica.stop();
      master.stop();
      dev.biogate.redis.OwnedTempDirs.remove(replicaDir);
      return null;
    })).mapEmpty();
  }
}
