package dev.biogate.support;

import dev.biogate.config.RedisConfig;
import dev.biogate.redis.EmbeddedRedis;
import dev.biogate.redis.RedisClients;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The Redis tests share: {@code REDIS_URL} when set (it must be a scratch database: tests flush it), else one
 * private {@code redis-server} started for the whole test JVM. Tests that stop Redis start their own with
 * {@link #dedicated()}.
 */
public final class TestRedis {

  private static String url;

  private TestRedis() {
  }

  public static synchronized String url() {
    if (url == null) {
      String env = System.getenv("REDIS_URL");
      if (env != null && !env.isBlank()) {
        url = env.trim();
      } else {
        url = dedicated().url();
      }
    }
    return url;
  }

  /** A new private server this caller owns (and may stop and restart). */
  public static EmbeddedRedis dedicated() {
    try {
      return EmbeddedRedis.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A client of the shared test Redis, as the gateway builds one. */
  public static Redis client(Vertx vertx) {
    return RedisClients.create(vertx, new RedisConfig(new JsonObject().put("url", url())));
  }

  /** Calls of these commands ({@code evalsha}, {@code xreadgroup}, ...) {@code redis} has served so far (INFO commandstats). */
  public static Future<Long> commandCalls(Redis redis, String... commands) {
    return redis.send(Request.cmd(Command.INFO).arg("commandstats")).map(r -> {
      long n = 0;
      for (String line : r.toString().split("\r?\n")) {
        for (String c : commands) {
          if (line.startsWith("cmdstat_" + c + ":")) {
            n += Long.parseLong(line.substring(line.indexOf("calls=") + 6, line.indexOf(',')));
          }
        }
      }
      return n;
    });
  }
}
