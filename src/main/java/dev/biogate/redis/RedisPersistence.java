package dev.biogate.redis;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whether the configured Redis keeps anything across a restart. Without AOF or RDB snapshots a restart forgets the
 * webhook dedupe markers (a provider's redelivery is then processed again), the queued events and the budget log: the
 * gateway says so as a warning, at start-up and again whenever the server is found keeping nothing after it did (a
 * server restarted or reconfigured without persistence while the gateway runs). A Redis that refuses {@code CONFIG}
 * (managed services often do) is not judged.
 */
public final class RedisPersistence {

  private static final Logger LOG = LoggerFactory.getLogger(RedisPersistence.class);
  private static final long TIMEOUT_MS = 2_000;

  private RedisPersistence() {
  }

  /** Completes with whether a warning was logged; never fails. */
  public static Future<Boolean> warnIfVolatile(Redis redis) {
    return keepsNothing(redis).map(nothing -> {
      if (nothing == Boolean.TRUE) {
        warn();
      }
      return nothing == Boolean.TRUE;
    });
  }

  /**
   * Looks now and every {@code periodMs}: warns when the server keeps nothing, once per change to that state (at
   * start-up, or when a restarted or reconfigured server has lost its persistence), and says so at INFO when it keeps
   * its data again. Stops with {@link Watch#close()} (or with Vert.x).
   */
  public static Watch watch(Vertx vertx, Redis redis, long periodMs) {
    Watch w = new Watch(vertx, redis);
    w.check();
    w.timer = vertx.setPeriodic(periodMs, id -> w.check());
    return w;
  }

  /** A running {@link #watch}. */
  public static final class Watch implements AutoCloseable {
    private final Vertx vertx;
    private final Redis redis;
    private final AtomicLong checks = new AtomicLong();
    private Boolean keptNothing;
    private boolean checking;
    private long timer = -1;

    private Watch(Vertx vertx, Redis redis) {
      this.vertx = vertx;
      this.redis = redis;
    }

    private synchronized void check() {
      if (checking) {
        return;
      }
      checking = true;
      keepsNothing(redis).onComplete(ar -> {
        synchronized (this) {
          checking = false;
          Boolean now = ar.result();
          if (now == Boolean.TRUE && keptNothing != Boolean.TRUE) {
            warn();
          } else if (now == Boolean.FALSE && keptNothing == Boolean.TRUE) {
            LOG.info("redis keeps its data across a restart again (appendonly or save points)");
          }
          if (now != null) {
            keptNothing = now;
          }
          checks.incrementAndGet();
        }
      });
    }

    /** What the last look that learnt something said: the server keeps nothing across a restart; null: not known. */
    public synchronized Boolean keepsNothingNow() {
      return keptNothing;
    }

    /** Looks completed so far (also those that learnt nothing). */
    public long checks() {
      return checks.get();
    }

    @Override
    public void close() {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
    }
  }

  private static void warn() {
    LOG.warn("redis keeps nothing across a restart (appendonly no, no save points): a restart forgets the webhook dedupe"
      + " markers (redeliveries are then processed again), the queued events and the budget log; redis/redis.conf turns on AOF");
  }

  /** TRUE when neither AOF nor save points are on, FALSE when either is, null when the server did not say; never fails. */
  private static Future<Boolean> keepsNothing(Redis redis) {
    return config(redis, "appendonly").compose(aof -> config(redis, "save").map(save -> {
      if (aof == null || save == null) {
        return (Boolean) null;
      }
      return !"yes".equalsIgnoreCase(aof) && save.isBlank();
    })).otherwise(err -> {
      LOG.debug("could not read the Redis persistence settings: {}", err.toString());
      return null;
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
