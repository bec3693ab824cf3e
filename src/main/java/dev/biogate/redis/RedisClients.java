package dev.biogate.redis;

import dev.biogate.config.RedisConfig;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisReplicas;
import io.vertx.redis.client.RedisRole;

/**
 * Builds the gateway's Redis client. Standalone and Sentinel: a {@link MultiplexedRedis} (a shared, pipelined
 * connection per event loop, with a deadline on every call) over a Vert.x client that only ever talks to the master. Cluster: a
 * {@link ClusterRedis}, which routes each command by slot to one {@link MultiplexedRedis} per master.
 */
public final class RedisClients {

  private RedisClients() {
  }

  /** Options of the underlying Vert.x client; also what a one-off client (preflight) uses. */
  public static RedisOptions options(RedisConfig config) {
    int timeout = (int) config.commandTimeoutMs();
    RedisOptions o = new RedisOptions()
      .setMaxPoolSize(config.poolSize())
      .setMaxPoolWaiting(config.maxWaiting())
      .setMaxWaitingHandlers(config.maxWaiting())
      // This client never reads from replicas: no lease, no READONLY, no stale reads after a write (shared copies are
      // read from one only while the master does not answer: replicaReads).
      .setUseReplicas(RedisReplicas.NEVER)
      // A node that does not answer must cost one timeout, not the operating system's connect timeout.
      .setNetClientOptions(new NetClientOptions().setConnectTimeout(timeout).setTcpNoDelay(true).setTcpKeepAlive(true));
    config.endpoints().forEach(o::addConnectionString);
    if (config.password() != null) {
      o.setPassword(config.password().reveal());
    }
    switch (config.type()) {
      case CLUSTER:
        o.setType(RedisClientType.CLUSTER);
        break;
      case SENTINEL:
        o.setType(RedisClientType.SENTINEL).setRole(RedisRole.MASTER).setMasterName(config.masterName());
        break;
      default:
        o.setType(RedisClientType.STANDALONE);
    }
    return o;
  }

  /** Connections to the replicas: a fallback for reads of shared copies, a few at a time. */
  private static final int REPLICA_READ_POOL = 4;

  /**
   * Under Sentinel, a client of the master's replicas (one the Sentinels name, chosen per connection) for the reads that
   * may be a little behind, made only when the master does not answer: an instance started while the master is down
   * and not yet replaced holds no copy, and answered 503 for profiles whose copy a replica holds. {@code null} in the
   * other modes (a standalone server has none; on a Cluster the slot's replica is promoted in seconds).
   */
  public static Redis replicaReads(Vertx vertx, RedisConfig config, SentinelEndpoints sentinels) {
    if (config.type() != RedisConfig.Type.SENTINEL) {
      return null;
    }
    RedisOptions o = options(config).setRole(RedisRole.REPLICA).setMaxPoolSize(REPLICA_READ_POOL)
      .setPoolName("replica-reads-" + java.util.UUID.randomUUID());
    return Redis.createSentinelClient(vertx, o, sentinels.connectOptions(o));
  }

  /** The client every component shares; see {@link MultiplexedRedis} and {@link ClusterRedis} for what they promise. */
  public static Redis create(Vertx vertx, RedisConfig config) {
    return create(vertx, config, new SentinelEndpoints(config.endpoints()));
  }

  /**
   * Like {@link #create(Vertx, RedisConfig)}; under Sentinel each master lookup asks the Sentinels in the order
   * {@code sentinels} gives at that moment (shared with the {@link SentinelGroup} that hears the switches).
   */
  public static Redis create(Vertx vertx, RedisConfig config, SentinelEndpoints sentinels) {
    if (config.type() == RedisConfig.Type.CLUSTER) {
      ClusterRedis cluster = new ClusterRedis(vertx, options(config), config.commandTimeoutMs());
      cluster.warmUp();
      return cluster;
    }
    MultiplexedRedis redis = config.type() == RedisConfig.Type.SENTINEL
      ? MultiplexedRedis.create(vertx, options(config), config.commandTimeoutMs(),
        o -> Redis.createSentinelClient(vertx, o, sentinels.connectOptions(o)))
      : MultiplexedRedis.create(vertx, options(config), config.commandTimeoutMs());
    redis.warmUp();
    return redis;
  }
}
