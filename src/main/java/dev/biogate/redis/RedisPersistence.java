package dev.biogate.redis;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * One look at start-up at whether the configured Redis keeps anything across a restart. Without AOF or RDB snapshots
 * a restart forgets the webhook dedupe markers (a provider's redelivery is then processed again), the queued events
 * and the budget log: the gateway says so once, as a warning. A Redis that refuses {@code CONFIG} (managed services
 * often do) is not judged.
 */
public final class RedisPersistence {

  private static final Logger LOG = LoggerFactory.getLogger(RedisPersistence.class);
  private static final long TIMEOUT_MS = 2_000;

  private RedisPersistence() {
  }

  /** Completes with whether a warning was logged; never fails. */
  public static Future<Boolean> warnIfVolatile(Redis redis) {
    return config(redis, "appendonly").compose(aof -> config(redis, "save").map(save -> {
      if (aof == null || save == null || "yes".equalsIgnoreCase(aof) || !save.isBlank()) {
        return false;
      }
      LOG.warn("redis keeps nothing across a restart (appendonly no, no save points): a restart forgets the webhook dedupe"
        + " markers (redeliveries are then processed again), the queued events and the budget log; redis/redis.conf turns on AOF");
      return true;
    })).otherwise(err -> {
      LOG.debug("could not read the Redis persistence settings: {}", err.toString());
      return false;
    });
  }

  /** The value of one setting ({@code CONFIG GET}), or {@code null} when the server did not say. */
  public static Future<String> config(Redis redis, String name) {
    return redis.send(Request.cmd(Command.CONFIG).arg("GET").arg(name)).timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .map(r -> value(r, name));
  }

  private static String value(Response r, String name) {
    if (r == null) {
      return null;
    }
    // RESP3 answers a map, RESP2 a flat [name, value] array.
    Response v = r.type() == io.vertx.redis.client.ResponseType.MULTI && r.getKeys() != null && !r.getKeys().isEmpty()
      ? r.get(name) : r.size() >= 2 ? r.get(1) : null;
    return v == null ? null : v.toString();
  }
}
