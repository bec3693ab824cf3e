package dev.biogate.analytics;

import dev.biogate.config.AnalyticsOptions;
import dev.biogate.http.Usernames;
import dev.biogate.profile.ProfileService;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import dev.biogate.stream.Outcome;
import dev.biogate.stream.StreamEntry;
import dev.biogate.stream.StreamHandler;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Maintains the click counters from the clicks stream (consumer group {@code analytics}): per creator, per link, per
 * minute, hour and day bucket, each event counted at most once ({@code redis/click_count.lua}). A click without a
 * creator (LinkMe names only the link) is attributed through the profile cache's link index; a link no cached profile
 * holds is counted in the global unattributed hash, never under a creator. An entry is acknowledged once its script
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
    String named = Usernames.normalize(e.username());
    Future<String> owner = named != null ? Future.succeededFuture(named) : profiles.ownerOfLink(e.linkId());
    return owner.compose(username -> apply(e, Usernames.normalize(username))).map(Outcome.done());
  }

  private Future<Void> apply(ClickEvent e, String username) {
    List<String> keys = new ArrayList<>(4);
    List<String> args = new ArrayList<>(5);
    args.add(Long.toString(options.dedupeTtlS()));
    args.add(e.linkId());
    if (username == null) {
      keys.add(RedisKeys.clickCountedUnattributed(e.eventId()));
      keys.add(RedisKeys.CLICKS_UNATTRIBUTED);
      args.add("0");
    } else {
      keys.add(RedisKeys.clickCounted(username, e.eventId()));
      for (Granularity g : SIZES) {
        keys.add(RedisKeys.clickBucket(username, g.unit(), g.index(e.ts())));
        args.add(Long.toString(g.floor(e.ts()) + g.retentionMs(options)));
      }
    }
    return script.run(redis, keys, args).map(res -> {
      if (res != null && res.toInteger() == 1) {
        (username == null ? unattributed : counted).increment();
      } else {
        repeats.increment();
      }
      return null;
    });
  }

  /** Clicks counted under a creator by this instance. */
  public long counted() { return counted.sum(); }
  /** Deliveries of an already counted event (redelivery, journal replayed twice): ignored. */
  public long repeats() { return repeats.sum(); }
  /** Clicks counted in the unattributed hash. */
  public long unattributed() { return unattributed.sum(); }
  /** Unreadable stream entries acknowledged without counting. */
  public long dropped() { return dropped.sum(); }
}
