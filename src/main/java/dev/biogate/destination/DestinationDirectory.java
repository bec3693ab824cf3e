package dev.biogate.destination;

import dev.biogate.config.DestinationOptions;
import dev.biogate.redis.RedisTimeoutException;
import dev.biogate.stream.StreamEntry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which destinations the live instances send to, shared through Redis ({@link OutboundKeys#DIRECTORY}: one field per
 * destination, its event filters and until when an instance vouches for it). Instances can run different destination
 * lists for a while (a rolling change of the configuration). Without this, an event was forwarded only to the
 * destinations of the instance that handled it, and a drill saw half the events of such a change never reach the new
 * destination, recorded as handled with none. Now the fan-out also queues for the destinations live peers announce
 * (their entries are taken over by a peer that can send them), and a reader keeps a delivery for a destination it
 * does not know only while a live instance announces it.
 *
 * <p>Each instance writes its enabled destinations every {@code RENEW_MS}, each valid for {@code TTL_MS}, and reads
 * the others' every {@code READ_MS} (a drill with a 5-s read saw the events of the 4 s before the first read go to
 * the old list only); the fan-out uses that snapshot, so it costs no round trip per event. No URL and no
 * secret is shared: only names and event filters.
 */
public final class DestinationDirectory {

  static final long TTL_MS = 20_000;
  static final long RENEW_MS = 5_000;
  static final long READ_MS = 1_000;
  private static final long TIMEOUT_MS = 2_000;

  private final Vertx vertx;
  private final Redis redis;
  private final Map<String, List<String>> own = new HashMap<>();
  private final Set<String> configured;
  private volatile Map<String, List<Glob>> peers = Map.of();
  private long timer = -1;
  private long ticks;

  public DestinationDirectory(Vertx vertx, Redis redis, DestinationOptions options) {
    this.vertx = vertx;
    this.redis = redis;
    List<String> names = new ArrayList<>();
    for (DestinationOptions.Endpoint e : options.endpoints()) {
      names.add(e.name());
      if (e.enabled()) {
        own.put(e.name(), e.events());
      }
    }
    this.configured = Set.copyOf(names);
  }

  /**
   * Announces this instance's destinations now and every {@code RENEW_MS}, and reads the peers' now and every
   * {@code READ_MS}. Start it before the instance accepts events, so no peer reads one of its deliveries before the
   * announcement is there. Never fails: without Redis, the next refresh catches up.
   */
  public Future<Void> start() {
    timer = vertx.setPeriodic(READ_MS, t -> refresh(++ticks % (RENEW_MS / READ_MS) == 0));
    return refresh(true);
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** Reads the directory, after announcing this instance's destinations when {@code announce}. */
  private Future<Void> refresh(boolean announce) {
    long now = System.currentTimeMillis();
    List<Request> batch = new ArrayList<>(2);
    if (announce && !own.isEmpty()) {
      Request hset = Request.cmd(Command.HSET).arg(OutboundKeys.DIRECTORY);
      own.forEach((name, events) -> hset.arg(name)
        .arg(new JsonObject().put("events", new JsonArray(events)).put("until", now + TTL_MS).encode()));
      batch.add(hset);
    }
    batch.add(Request.cmd(Command.HGETALL).arg(OutboundKeys.DIRECTORY));
    return RedisTimeoutException.within(redis.batch(batch), TIMEOUT_MS)
      .map(replies -> {
        read(replies.get(replies.size() - 1), now);
        return (Void) null;
      })
      .otherwiseEmpty();
  }

  /** Keeps the peers' live destinations this instance has no configuration of its own for; removes long-dead ones. */
  private void read(Response all, long now) {
    Map<String, List<Glob>> live = new HashMap<>();
    List<String> dead = new ArrayList<>();
    if (all != null) {
      for (Map.Entry<String, String> f : StreamEntry.fields(all).entrySet()) {
        JsonObject v;
        try {
          v = new JsonObject(f.getValue());
        } catch (RuntimeException unreadable) {
          continue;
        }
        long until = v.getLong("until", 0L);
        if (until < now - 10 * TTL_MS) {
          dead.add(f.getKey());
        } else if (until >= now && !configured.contains(f.getKey())) {
          List<Glob> globs = new ArrayList<>();
          v.getJsonArray("events", new JsonArray()).forEach(g -> globs.add(new Glob(String.valueOf(g))));
          live.put(f.getKey(), globs);
        }
      }
    }
    peers = Map.copyOf(live);
    if (!dead.isEmpty()) {
      Request hdel = Request.cmd(Command.HDEL).arg(OutboundKeys.DIRECTORY);
      dead.forEach(hdel::arg);
      RedisTimeoutException.within(redis.send(hdel), TIMEOUT_MS);
    }
  }

  /** The destinations live peers send to and this instance has no configuration for, with their event filters. */
  Map<String, List<Glob>> peers() {
    return peers;
  }

  /** Whether a live instance announces {@code destination} now (asked of Redis, not the snapshot); fails without Redis. */
  Future<Boolean> liveElsewhere(String destination) {
    return RedisTimeoutException.within(redis.send(Request.cmd(Command.HGET).arg(OutboundKeys.DIRECTORY).arg(destination)),
        TIMEOUT_MS)
      .map(r -> {
        if (r == null) {
          return false;
        }
        try {
          return new JsonObject(r.toString()).getLong("until", 0L) >= System.currentTimeMillis();
        } catch (RuntimeException unreadable) {
          return false;
        }
      });
  }
}
