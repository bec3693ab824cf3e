package dev.biogate.events;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Reads new entries of the events stream for this instance: {@code XREADGROUP ... BLOCK} on a dedicated connection,
 * so no event loop ever waits and no pooled connection is held by a blocked command. Entries go to the
 * {@link EventProcessor}; reading pauses while it holds {@link EventProcessor#MAX_HELD} entries.
 * <p>
 * Survives Redis restarts: a failed read drops the connection and reconnects with backoff (100 ms doubling to
 * 5 s); a missing group ({@code NOGROUP}: Redis came back empty) is recreated with {@code MKSTREAM}.
 */
final class EventConsumer {

  private static final Logger LOG = LoggerFactory.getLogger(EventConsumer.class);
  private static final long BLOCK_MS = 2_000;
  private static final int BATCH = 32;
  private static final long MIN_BACKOFF_MS = 100;
  private static final long MAX_BACKOFF_MS = 5_000;

  private final Vertx vertx;
  private final Redis redis;
  private final EventStream stream;
  private final EventProcessor processor;
  private final Promise<Void> exited = Promise.promise();
  private RedisConnection conn;
  private long clientId = -1;
  private boolean reading;
  private boolean stopped;
  private boolean degraded;
  private long backoffMs = MIN_BACKOFF_MS;
  private long retryTimer = -1;

  EventConsumer(Vertx vertx, Redis redis, EventStream stream, EventProcessor processor) {
    this.vertx = vertx;
    this.redis = redis;
    this.stream = stream;
    this.processor = processor;
  }

  /** Creates the group if needed, then starts reading; Redis being down only delays the reading. */
  Future<Void> start() {
    return stream.ensureGroup().timeout(2_000, TimeUnit.MILLISECONDS).otherwiseEmpty().onComplete(v -> loop());
  }

  /** Stops reading: a blocked read is released with {@code CLIENT UNBLOCK}, then the connection is given back. */
  Future<Void> stop() {
    stopped = true;
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
      exit();
    } else if (!reading) {
      exit();
    } else if (clientId >= 0) {
      redis.send(Request.cmd(Command.CLIENT).arg("UNBLOCK").arg(clientId)).otherwiseEmpty();
    }
    return exited.future().timeout(BLOCK_MS + 1_000, TimeUnit.MILLISECONDS).otherwiseEmpty();
  }

  private void loop() {
    retryTimer = -1;
    if (stopped) {
      exit();
      return;
    }
    if (processor.room() <= 0) {
      processor.whenRoom().onComplete(v -> loop());
      return;
    }
    reading = true;
    connection()
      .compose(c -> c.send(stream.read(Math.min(BATCH, processor.room()), BLOCK_MS)))
      .onComplete(ar -> {
        reading = false;
        if (ar.succeeded()) {
          recovered();
          if (!stopped) {
            StreamEntry.fromRead(ar.result()).forEach(processor::submit);
          }
          loop();
        } else if (!stopped && EventStream.isError(ar.cause(), "NOGROUP")) {
          stream.ensureGroup().onComplete(v -> retryLater());
        } else {
          if (!stopped && !degraded) {
            degraded = true;
            LOG.warn("events consumer lost redis ({}); reconnecting with backoff", ar.cause().getClass().getSimpleName());
          }
          dropConnection();
          retryLater();
        }
      });
  }

  private void retryLater() {
    if (stopped) {
      exit();
      return;
    }
    long delay = backoffMs;
    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    retryTimer = vertx.setTimer(delay, t -> loop());
  }

  private void recovered() {
    backoffMs = MIN_BACKOFF_MS;
    if (degraded) {
      degraded = false;
      LOG.info("events consumer reading again");
    }
  }

  private Future<RedisConnection> connection() {
    if (conn != null) {
      return Future.succeededFuture(conn);
    }
    // The connection's id lets stop() release a blocked read with CLIENT UNBLOCK; without it (Cluster routes
    // keyless commands elsewhere) stop() just waits for the read to time out.
    return redis.connect().compose(c -> c.send(Request.cmd(Command.CLIENT).arg("ID"))
      .map(id -> id.toLong()).otherwise(-1L).map(id -> {
        clientId = id;
        conn = c;
        return c;
      }));
  }

  private void dropConnection() {
    RedisConnection c = conn;
    conn = null;
    clientId = -1;
    if (c != null) {
      c.close();
    }
  }

  private void exit() {
    dropConnection();
    exited.tryComplete();
  }
}
