package dev.biogate.events;

import dev.biogate.profile.ProfileService;
import dev.biogate.profile.ProfileStore;
import dev.biogate.redis.RedisErrors;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Context;
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
 * Keeps every instance's L1 in step with L2 through Redis pub/sub ({@code bg:invalidate}). Every accepted write of a
 * profile's shared copy (redis/profile_write.lua) publishes "{@code <writer id> <username> <version>}"; every
 * instance, subscribed on a dedicated connection, keeps its L1 copy older than that version only as an outdated one
 * (served if the upstream fails; an operator's purge drops it) and reads the new one from L2 on the next request
 * (the writer's own copy has that version and stays). Messages are delivered in well
 * under a second. The subscription is re-established with backoff after Redis restarts, and moved at once when a
 * Sentinel announces a new master; invalidations published while an instance was not subscribed are lost to it, so
 * once subscribed again it checks every copy it holds against L2's version ({@link ProfileService#reconcile}).
 */
public final class CacheInvalidation {

  private static final Logger LOG = LoggerFactory.getLogger(CacheInvalidation.class);
  private static final long MAX_BACKOFF_MS = 5_000;
  private static final int RECONCILE_TRIES = 10;
  private static final long RECONCILE_RETRY_MS = 1_000;

  private final Vertx vertx;
  private final Redis redis;
  private final ProfileService profiles;
  private RedisConnection conn;
  private boolean stopped;
  private long backoffMs = 100;
  private final String channel;
  private long timer = -1;
  /** Messages may have been published while this instance was not subscribed: its copies are checked once it is. */
  private volatile boolean missed;
  /** Where the subscription is managed: its callbacks and a switch's resubscription run there, one at a time. */
  private volatile Context context;

  /** Listens on {@code channel} ({@link RedisKeys#invalidateChannel}) for the copies other instances replaced. */
  public CacheInvalidation(Vertx vertx, Redis redis, ProfileService profiles, String channel) {
    this.vertx = vertx;
    this.redis = redis;
    this.profiles = profiles;
    this.channel = channel;
  }

  /** Drops every copy of {@code username}: L2 (leaving a tombstone), and every instance's L1. */
  public Future<Void> purge(String username) {
    return profiles.purge(username);
  }

  /** Subscribes; completes when subscribed, or after a short wait with retries continuing in the background. */
  public Future<Void> start() {
    context = vertx.getOrCreateContext();
    return subscribe().timeout(2_000, TimeUnit.MILLISECONDS).recover(err -> {
      retryLater();
      return Future.succeededFuture();
    });
  }

  /**
   * The master has changed while this subscription's connection stayed up (a Sentinel switch): subscribes again on a
   * new connection, which reaches the master the client now resolves, then drops the old one. The old master would
   * keep the subscription until it is demoted, seconds later, and publishes nothing of the new master's writes.
   */
  public void resubscribe() {
    if (context == null) {
      return;
    }
    context.runOnContext(v -> {
      if (stopped) {
        return;
      }
      RedisConnection old = conn;
      conn = null;
      missed = true;
      subscribe().onComplete(ar -> {
        if (old != null) {
          old.close();
        }
        if (ar.failed()) {
          retryLater();
        }
      });
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
      return c.send(Request.cmd(Command.SUBSCRIBE).arg(channel)).map(r -> {
        if (conn != null || stopped) {
          c.close();
        } else {
          conn = c;
          c.endHandler(v -> lost(c));
          c.exceptionHandler(err -> lost(c));
          backoffMs = 100;
          if (missed) {
            missed = false;
            reconcile(c, RECONCILE_TRIES);
          }
        }
        return (Void) null;
      }).onFailure(err -> c.close());
    });
  }

  private void onMessage(Response msg) {
    // ["message", channel, "<writer id> <username> <version>"]; subscribe confirmations are ignored.
    if (msg == null || msg.size() != 3 || !"message".equals(msg.get(0).toString())) {
      return;
    }
    String payload = msg.get(2).toString();
    int first = payload.indexOf(' ');
    int last = payload.lastIndexOf(' ');
    if (first <= 0 || last <= first) {
      return;
    }
    try {
      profiles.invalidateLocal(payload.substring(first + 1, last), Long.parseLong(payload.substring(last + 1)),
        ProfileStore.dropsCopies(payload.substring(0, first)));
    } catch (NumberFormatException e) {
      LOG.debug("ignored a malformed invalidation message");
    }
  }

  private void lost(RedisConnection c) {
    if (conn != c) {
      return;
    }
    conn = null;
    missed = true;
    c.close();
    if (!stopped) {
      LOG.warn("cache invalidation subscription lost; resubscribing");
      retryLater();
    }
  }

  /**
   * Checks the held copies against L2 (subscribed again on {@code c}, nothing is missed from now on). The data
   * connections may still be failing for a moment after the subscription's own is back: tried again every second,
   * {@value #RECONCILE_TRIES} times at most, while {@code c} is the subscription.
   */
  private void reconcile(RedisConnection c, int tries) {
    profiles.reconcile().onFailure(err -> {
      if (tries > 1) {
        vertx.setTimer(RECONCILE_RETRY_MS, t -> {
          if (conn == c && !stopped) {
            reconcile(c, tries - 1);
          }
        });
        return;
      }
      LOG.warn("could not check the held profile copies against redis ({}); a copy changed while the subscription was"
        + " down is served until it is refreshed", RedisErrors.describe(err));
    });
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
