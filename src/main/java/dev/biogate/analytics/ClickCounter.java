package dev.biogate.analytics;

import dev.biogate.config.AnalyticsOptions;
import dev.biogate.http.Usernames;
import dev.biogate.profile.ProfileService;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import dev.biogate.stream.Outcome;
import dev.biogate.stream.StreamEntry;
import dev.biogate.stream.StreamHandler;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Maintains the click counters from the clicks stream (consumer group {@code analytics}): per creator, per link, per
 * minute, hour and day bucket, each event counted at most once ({@code redis/click_count.lua}). A click without a
 * creator (LinkMe names only the link) is attributed through the profile cache's link index; a link no cached profile
 * holds is counted in the global unattributed hash, never under a creator. The entries of one read are counted
 * together: one script call per creator with all of that creator's events. An entry is acknowledged once its script
 * has run; unreadable entries are acknowledged and dropped (counted in {@link #dropped()}). The clicks stream's
 * handler for the counters' group.
 */
public final class ClickCounter implements StreamHandler {

  private static final Logger LOG = LoggerFactory.getLogger(ClickCounter.class);
  private static final Granularity[] SIZES = Granularity.values();

  private final Redis redis;
  private final ProfileService profiles;
  private final AnalyticsOptions options;
  private final LuaScript script = LuaScript.load("click_count");
  private final LongAdder counted = new LongAdder();
  private final LongAdder repeats = new LongAdder();
  private final LongAdder unattributed = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final AtomicBoolean droppedLogged = new AtomicBoolean();
  private final LongAdder calls = new LongAdder();
  private final Map<Context, Batch> batches = new ConcurrentHashMap<>();

  public ClickCounter(Redis redis, ProfileService profiles, AnalyticsOptions options) {
    this.redis = redis;
    this.profiles = profiles;
    this.options = options;
  }

  @Override
  public Future<Outcome> handle(StreamEntry r) {
    ClickEvent e = ClickEvent.fromFields(r.fields(), r.addedAtMs());
    if (e == null) {
      dropped.increment();
      if (droppedLogged.compareAndSet(false, true)) {
        LOG.warn("dropping click stream entries without a valid event_id/link_id (first: {}); see analytics dropped count", r.id());
      }
      return Future.succeededFuture(Outcome.done());
    }
    Context ctx = Vertx.currentContext();
    if (ctx == null) {
      Batch alone = new Batch();
      Future<Outcome> done = alone.add(e);
      alone.flush();
      return done;
    }
    // The engine hands over every entry of one read in one go on its context: collect them, flush once after.
    Batch b = batches.computeIfAbsent(ctx, c -> new Batch());
    Future<Outcome> done = b.add(e);
    if (!b.scheduled) {
      b.scheduled = true;
      ctx.runOnContext(v -> {
        b.scheduled = false;
        b.flush();
      });
    }
    return done;
  }

  /** The events handed over on one context since its last flush; touched only on that context. */
  private final class Batch {
    private List<ClickEvent> events = new ArrayList<>();
    private List<Promise<Outcome>> done = new ArrayList<>();
    private boolean scheduled;

    Future<Outcome> add(ClickEvent e) {
      Promise<Outcome> p = Promise.promise();
      events.add(e);
      done.add(p);
      return p.future();
    }

    /** Resolves each event's creator, then one script call per creator with all of that creator's events. */
    void flush() {
      List<ClickEvent> batch = events;
      List<Promise<Outcome>> promises = done;
      events = new ArrayList<>();
      done = new ArrayList<>();
      List<Future<String>> owners = new ArrayList<>(batch.size());
      for (ClickEvent e : batch) {
        String named = Usernames.normalize(e.username());
        owners.add(named != null ? Future.succeededFuture(named) : profiles.ownerOfLink(e.linkId()).map(Usernames::normalize));
      }
      Future.join(owners).onComplete(ignored -> {
        Map<String, List<Integer>> byCreator = new LinkedHashMap<>();
        for (int i = 0; i < batch.size(); i++) {
          Future<String> owner = owners.get(i);
          if (owner.failed()) {
            promises.get(i).fail(owner.cause());
          } else {
            byCreator.computeIfAbsent(owner.result() == null ? "" : owner.result(), u -> new ArrayList<>()).add(i);
          }
        }
        byCreator.forEach((username, idx) -> apply(username.isEmpty() ? null : username, idx, batch, promises));
      });
    }
  }

  private void apply(String username, List<Integer> idx, List<ClickEvent> batch, List<Promise<Outcome>> promises) {
    int perEvent = username == null ? 2 : 1 + SIZES.length;
    List<String> keys = new ArrayList<>(idx.size() * perEvent);
    List<String> args = new ArrayList<>(1 + idx.size() * (1 + perEvent));
    args.add(Long.toString(options.dedupeTtlS()));
    for (int i : idx) {
      ClickEvent e = batch.get(i);
      args.add(e.linkId());
      if (username == null) {
        keys.add(RedisKeys.clickCountedUnattributed(e.eventId()));
        keys.add(RedisKeys.clicksUnattributed(Granularity.DAY.index(e.ts())));
        args.add("1");
        args.add(Long.toString(Granularity.DAY.floor(e.ts()) + Granularity.DAY.retentionMs(options)));
      } else {
        keys.add(RedisKeys.clickCounted(username, e.eventId()));
        args.add(Integer.toString(SIZES.length));
        for (Granularity g : SIZES) {
          keys.add(RedisKeys.clickBucket(username, g.unit(), g.index(e.ts())));
          args.add(Long.toString(g.floor(e.ts()) + g.retentionMs(options)));
        }
      }
    }
    calls.increment();
    script.run(redis, keys, args).onComplete(ar -> {
      for (int j = 0; j < idx.size(); j++) {
        Promise<Outcome> p = promises.get(idx.get(j));
        if (ar.failed()) {
          p.fail(ar.cause());
          continue;
        }
        if (ar.result().get(j).toInteger() == 1) {
          (username == null ? unattributed : counted).increment();
        } else {
          repeats.increment();
        }
        p.complete(Outcome.done());
      }
    });
  }

  /** Script calls made (one per creator per batch): with {@link #counted()}, how well batching works. */
  public long scriptCalls() { return calls.sum(); }
  /** Clicks counted under a creator by this instance. */
  public long counted() { return counted.sum(); }
  /** Deliveries of an already counted event (redelivery, journal replayed twice): ignored. */
  public long repeats() { return repeats.sum(); }
  /** Clicks counted in the unattributed hash. */
  public long unattributed() { return unattributed.sum(); }
  /** Unreadable stream entries acknowledged without counting. */
  public long dropped() { return dropped.sum(); }
}
