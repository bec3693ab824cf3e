package dev.biogate.redis;

import dev.biogate.config.RedisConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Whether the configured endpoints are what the configured type says they are, from {@code INFO server}'s
 * {@code redis_mode} ({@code standalone}, {@code cluster} or {@code sentinel}). A mismatch can never work (a
 * standalone server named as a Cluster answers every call "cluster support disabled"), so it is a setting to fix, not
 * an outage to serve through. Endpoints that do not answer, or refuse {@code INFO}, tell nothing.
 */
public final class RedisMode {

  private RedisMode() {
  }

  /**
   * Completes with the first mismatch found, worded for an operator (the endpoint without credentials, what it is,
   * what to set), or {@code null} when none of the endpoints that answered contradicts the configuration. Never fails.
   */
  public static Future<String> mismatch(Vertx vertx, RedisConfig config) {
    List<Future<String>> answers = new ArrayList<>();
    for (String endpoint : config.endpoints()) {
      answers.add(mode(vertx, config, endpoint).map(mode -> problem(config.type(), redacted(endpoint), mode)));
    }
    return Future.join(answers).transform(done -> {
      for (Future<String> a : answers) {
        if (a.succeeded() && a.result() != null) {
          return Future.succeededFuture(a.result());
        }
      }
      return Future.succeededFuture(null);
    });
  }

  /** The endpoint's {@code redis_mode}, or {@code null} when it did not say. */
  private static Future<String> mode(Vertx vertx, RedisConfig config, String endpoint) {
    RedisOptions o = new RedisOptions(RedisClients.options(config)).setType(RedisClientType.STANDALONE)
      .setEndpoints(List.of(endpoint)).setMaxPoolSize(1).setPoolName(UUID.randomUUID().toString());
    Redis once = Redis.createClient(vertx, o);
    return once.send(Request.cmd(Command.INFO).arg("server"))
      .timeout(config.commandTimeoutMs(), TimeUnit.MILLISECONDS)
      .map(r -> r == null ? null : field(r.toString(), "redis_mode"))
      .otherwise((String) null)
      .eventually(() -> {
        once.close();
        return Future.succeededFuture();
      });
  }

  /** One {@code name:value} line of an {@code INFO} answer, or {@code null}. */
  public static String field(String info, String name) {
    for (String line : info.split("\r?\n")) {
      if (line.startsWith(name + ":")) {
        return line.substring(name.length() + 1).trim();
      }
    }
    return null;
  }

  /** What is wrong with naming a server of {@code mode} as {@code type}, or {@code null} when nothing is. */
  static String problem(RedisConfig.Type type, String endpoint, String mode) {
    if (mode == null || mode.equalsIgnoreCase(type.name())) {
      return null;
    }
    String is;
    switch (mode) {
      case "standalone":
        is = "is a standalone Redis server (cluster support disabled)";
        break;
      case "cluster":
        is = "is a Redis Cluster node";
        break;
      case "sentinel":
        is = "is a Sentinel";
        break;
      default:
        return null;
    }
    String fix;
    switch (type) {
      case CLUSTER:
        fix = "not a Cluster node: list the Cluster's nodes, or set the type to " + mode;
        break;
      case SENTINEL:
        fix = "not a Sentinel: list the Sentinels (port 26379 by default), or set the type to " + mode;
        break;
      default:
        fix = "not a standalone server: set the type to " + mode
          + ("sentinel".equals(mode) ? " with the master's name" : " and list its nodes");
    }
    return endpoint + " " + is + ", " + fix;
  }

  private static String redacted(String endpoint) {
    return endpoint.replaceAll("^[a-z]+://([^@/]*@)?", "");
  }
}
