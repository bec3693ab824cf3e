package dev.biogate.redis;

import dev.biogate.config.RedisConfig;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisRole;

/** Builds the pooled Vert.x Redis client for standalone, Sentinel or Cluster deployments. */
public final class RedisClients {

  private RedisClients() {
  }

  public static RedisOptions options(RedisConfig config) {
    RedisOptions o = new RedisOptions()
      .setMaxPoolSize(config.poolSize())
      .setMaxPoolWaiting(config.maxWaiting())
      .setMaxWaitingHandlers(config.maxWaiting());
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

  public static Redis create(Vertx vertx, RedisConfig config) {
    return Redis.createClient(vertx, options(config));
  }
}
