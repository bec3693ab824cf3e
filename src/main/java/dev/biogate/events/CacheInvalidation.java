package dev.biogate.events;

import dev.biogate.profile.ProfileService;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Keeps every instance's L1 in step with L2 through Redis pub/sub ({@code bg:invalidate}). After an instance changes
 * a profile's shared copy it {@link #broadcast}s "{@code <instance id> <username>}"; every other instance, subscribed
 * on a dedicated connection, drops its L1 copy and reads the new one from L2 on the next request. Messages are
 * delivered in well under a second. The subscription is re-established with backoff after Redis restarts;
 * invalidations published while an instance was cut off are lost to it (its L1 copy then ages out normally).
 */
public final class CacheInvalidation {

  private static final Logger LOG = LoggerFactory.getLogger(CacheInvalidation.class);
  private static final long MAX_BACKOFF_MS = 5_000;

  private final Vertx vertx;
  private final Redis redis;
  private final ProfileService profiles;
  private final String instanceId;
  private RedisConnection conn;
  private boolean stopped;
  private long backoffMs = 100;
  private long timer = -1;

  public CacheInvalidation(Vertx vertx, Redis redis, ProfileService profiles, String instanceId) {
    this.vertx = vertx;
    this.redis = redis;
    this.profiles = profiles;
    this.instanceId = instanceId;
  }

  /** Tells every other instance to drop its L1 copy of {@code username}. */
  public Future<Void> broadcast(String username) {
    return redis.send(Request.cmd(Command.PUBLISH).arg(RedisKeys.INVALIDATE_CHANNEL).arg(instanceId + " " + username)).mapEmpty();
  }

  /** Drops every copy of {@code username}: L2, this instance's L1, and (by broadcast) every other instance's L1. */
  public Future<Void> purge(String username) {
    profiles.invalidateLocal(username);
    return redis.send(Request.cmd(Command.DEL).arg(RedisKeys.profile(username)))
      .compose(r -> broadcast(username))
      .onComplete(ar -> profiles.invalidateLocal(username));
  }

  /** Subscribes; completes when subscribed, or after a short wait with retries continuing in the background. */
  public Future<Void> start() {
    return subscribe().timeout(2_000, TimeUnit.MILLISECONDS).recover(err -> {
      retryLater();
      return Future.succeededFuture();
    });
  }

  public void stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    if (conn != null) {
      conn.close();
      conn = null;
    }
  }

  private Future<Void> subscribe() {
    return redis.connect().compose(c -> {
      c.handler(this::onMessage);
      return c.send(Request.cmd(Command.SUBSCRIBE).arg(RedisKeys.INVALIDATE_CHANNEL)).map(r -> {
        if (conn != null || stopped) {
          c.close();
        } else {
          conn = c;
          c.endHandler(v -> lost(c));
          c.exceptionHandler(err -> lost(c));
          backoffMs = 100;
        }
        return (Void) null;
      }).onFailure(err -> c.close());
    });
  }

  private void onMessage(Response msg) {
    // ["message", channel, "<instance id> <username>"]; subscribe confirmations are ignored.
    if (msg == null || msg.size() != 3 || !"message".equals(msg.get(0).toString())) {
      return;
    }
    String payload = msg.get(2).toString();
    int space = payload.indexOf(' ');
    if (space > 0 && !payload.substring(0, space).equals(instanceId)) {
      profiles.invalidateLocal(payload.substring(space + 1));
    }
  }

  private void lost(RedisConnection c) {
    if (conn != c) {
      return;
    }
    conn = null;
    c.close();
    if (!stopped) {
      LOG.warn("cache invalidation subscription lost; resubscribing");
      retryLater();
    }
  }

  private void retryLater() {
    if (stopped) {
      return;
    }
    long delay = backoffMs;
    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    timer = vertx.setTimer(delay, t -> {
      if (conn == null && !stopped) {
        subscribe().onFailure(err -> retryLater());
      }
    });
  }
}
