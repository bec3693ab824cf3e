package dev.biogate.events;

import dev.biogate.http.Usernames;
import dev.biogate.profile.ChangeTime;
import dev.biogate.profile.ProfileService;
import dev.biogate.profile.ProfileService.Patched;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * Keeps cached profiles fresh from Linktree's profile and link events without spending upstream budget. A complete
 * payload is applied to the shared copy with {@link ProfileService#patch}; an incomplete one cannot be applied, so
 * the copy is marked outdated with {@link ProfileService#outdate}: the next read fetches the current profile, and the
 * last good copy is served only while the upstream fails. Both are versioned writes: every other instance keeps its
 * older L1 copy only as an outdated one, and a fetch already in flight can no longer publish its older copy over
 * them.
 * <p>
 * Changes to one profile are queued on this instance so they apply in stream order, those that queued behind a write
 * applied together in the next one ({@code HotProfileChangesTest}); across instances, the
 * versioned write makes a patch that raced another write read the copy again instead of overwriting it. Changes are
 * ordered by when they were made, not by when they arrive: one older than a change already applied to the same link or
 * profile is skipped. The write itself checks that, in the same step (the time of the newest change to each part is
 * kept with the shared copy, {@code redis/profile_write.lua}), so an older and a newer change handled at the same
 * moment, on two instances or one, end with the newer one on every instance ({@code ChangeOrderRaceTest}). Before
 * that, {@code redis/event_order.lua} records the newest time per link and profile whoever owns it: a cheap early skip,
 * and the only order kept for a link event whose creator is unknown (a late {@code link.created} naming its creator
 * must still not bring back a link deleted while no cached profile held it).
 */
final class ProfileEventHandler {

  private static final Logger LOG = LoggerFactory.getLogger(ProfileEventHandler.class);

  /** How long the time of the newest change to a link or profile is kept: past Linktree's 72-hour retry horizon. */
  static final long ORDER_MEMORY_MS = 96L * 3_600_000L;
  /** The most changes to one profile written together. */
  private static final int BATCH = 64;
  /** Ids longer than this are not ordered (a key per id): no real link id comes near it. */
  private static final int MAX_ORDERED_ID = 256;

  /**
   * How many of the profiles this instance reads most a {@code link.created} naming no creator marks outdated.
   * Caffeine's retention order ranks them by recency until the cache is half full, by frequency after: with 5, a
   * re-drill read alice 150 times, then six other profiles three times each, and alice was not marked.
   */
  static final int MOST_READ = 10;
  /**
   * At most one such marking per this period on this instance; those asked for within it are made once, at its end.
   * Each marked profile costs a fetch (its link pages included) when next read: a stream of such events costs at most
   * {@value #MOST_READ} profile fetches per period, not a few per event.
   */
  static final long MOST_READ_PERIOD_MS = 10_000;

  private final ProfileService profiles;
  private final Redis redis;
  /** When the profiles read most were last marked ({@code System.nanoTime()} ms), and whether a marking is due. */
  private long mostReadAt = TimeUnit.NANOSECONDS.toMillis(System.nanoTime()) - MOST_READ_PERIOD_MS;
  private boolean mostReadDue;
  private long mostReadTimer = -1;
  private final LuaScript order = LuaScript.load("event_order");
  /**
   * Per profile, the changes waiting on this instance while one write of it is under way (a profile has an entry only
   * then); shared by the events engines, one per event loop.
   */
  private final Map<String, ArrayDeque<Queued>> queues = new HashMap<>();

  ProfileEventHandler(ProfileService profiles, Redis redis) {
    this.profiles = profiles;
    this.redis = redis;
  }

  /** What a change did to the cached copies, as the delivery history tells it. */
  enum Change {
    PATCHED("cached copies patched"),
    NO_COPY("no cached copy to patch: the next read fetches the profile"),
    OUTDATED("cached copies marked outdated (the event was incomplete, or named a link URL that is not served): the"
      + " next read fetches the profile"),
    NO_CREATOR("no creator known for it: nothing cached to correct"),
    MOST_READ("no creator known for it (a new link): the profiles this instance reads most were marked outdated, so the"
      + " next read of each fetches it"),
    MOST_READ_LATER("no creator known for it (a new link): the profiles this instance reads most are marked outdated at"
      + " the end of the current " + MOST_READ_PERIOD_MS / 1000 + "-s period"),
    OLDER(null);

    final String result;

    Change(String result) {
      this.result = result;
    }
  }

  /** Applies a profile change made at {@code madeAtMs} (-1 when the event did not say). */
  Future<Change> profileUpdated(JsonObject data, long madeAtMs) {
    Object name = data.getValue("username");
    String username = name instanceof String ? Usernames.normalize((String) name) : null;
    if (username == null) {
      LOG.debug("acknowledged a profile.updated event without a valid username");
      return Future.succeededFuture(Change.NO_CREATOR);
    }
    return newest("profile", username, madeAtMs).compose(newest -> {
      if (!newest) {
        return Future.succeededFuture(Change.OLDER);
      }
      ChangeTime at = ChangeTime.profile(madeAtMs);
      if (!data.containsKey("bio") || !data.containsKey("avatar_url") || !data.containsKey("theme")) {
        return outdate(username, at);
      }
      return apply(username, at, doc -> doc.put("bio", data.getValue("bio")).put("avatar_url", data.getValue("avatar_url"))
        .put("theme", data.getValue("theme")));
    });
  }

  /**
   * Applies a link change made at {@code madeAtMs} (-1 when the event did not say); {@link Change#OLDER} when a newer
   * change to the same link was applied already (a late {@code link.created} must not bring back a deleted link).
   */
  Future<Change> linkChanged(String type, JsonObject data, long madeAtMs) {
    String linkId = LinkChanges.linkId(data);
    return newest("link", linkId, madeAtMs).compose(newest -> {
      if (!newest) {
        return Future.succeededFuture(Change.OLDER);
      }
      Object name = data.getValue("username");
      Future<String> owner = name instanceof String ? Future.succeededFuture(Usernames.normalize((String) name))
        : linkId != null ? profiles.ownerOfLink(linkId) : Future.succeededFuture(null);
      return owner.compose(username -> {
        if (username == null) {
          if ("link.created".equals(type)) {
            // A new link is in no cached profile, so its creator cannot be looked up (the documented payload does not
            // name one): the profiles read most are fetched again on their next read, the creator's among them if read.
            return outdateMostRead();
          }
          // A link in no cached profile: nothing cached to correct.
          LOG.debug("acknowledged a {} event whose creator is unknown", type);
          return Future.succeededFuture(Change.NO_CREATOR);
        }
        ChangeTime at = linkId == null || linkId.length() > MAX_ORDERED_ID ? ChangeTime.NONE : ChangeTime.link(linkId, madeAtMs);
        if (!LinkChanges.complete(type, data)) {
          return outdate(username, at);
        }
        return apply(username, at, doc -> LinkChanges.apply(type, data, doc));
      });
    });
  }

  /**
   * Marks the profiles this instance reads most ({@value #MOST_READ}) outdated, at once or, within
   * {@value #MOST_READ_PERIOD_MS} ms of the last marking, once at the end of that period (however many ask meanwhile).
   */
  private Future<Change> outdateMostRead() {
    long now = TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
    synchronized (this) {
      long wait = mostReadAt + MOST_READ_PERIOD_MS - now;
      if (wait > 0) {
        if (!mostReadDue) {
          mostReadDue = true;
          mostReadTimer = profiles.vertx().setTimer(wait, t -> {
            synchronized (this) {
              if (!mostReadDue) {
                return; // made by flush()
              }
              mostReadDue = false;
              mostReadTimer = -1;
              mostReadAt = TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
            }
            markMostRead().onFailure(err -> LOG.warn("could not mark the profiles read most outdated for new links ({})",
              err.toString()));
          });
        }
        return Future.succeededFuture(Change.MOST_READ_LATER);
      }
      mostReadAt = now;
    }
    return markMostRead().map(Change.MOST_READ);
  }

  /**
   * Makes now the marking still due at the end of the current period, if any: called when the instance stops, after
   * its event engines have, so that a marking its timer would have made is not lost with it.
   */
  Future<Void> flush() {
    synchronized (this) {
      if (!mostReadDue) {
        return Future.succeededFuture();
      }
      mostReadDue = false;
      if (mostReadTimer >= 0) {
        profiles.vertx().cancelTimer(mostReadTimer);
        mostReadTimer = -1;
      }
    }
    return markMostRead().onFailure(err -> LOG.warn("could not mark the profiles read most outdated for new links at the"
      + " stop ({})", err.toString())).otherwiseEmpty();
  }

  private Future<Void> markMostRead() {
    List<Future<Patched>> marked = new ArrayList<>();
    for (String username : profiles.cache().mostRead(MOST_READ)) {
      marked.add(queued(username, new ProfileService.Change(ChangeTime.NONE, null)));
    }
    return Future.all(marked).mapEmpty();
  }

  /**
   * Whether a change made at {@code madeAtMs} to {@code kind}/{@code id} is not older than the newest one applied
   * (recording it when so). Changes without a time, or to an id too long to key, are applied as they come.
   */
  private Future<Boolean> newest(String kind, String id, long madeAtMs) {
    if (madeAtMs < 0 || id == null || id.length() > MAX_ORDERED_ID) {
      return Future.succeededFuture(true);
    }
    return order.run(redis, List.of(RedisKeys.eventOrder(kind, id)), List.of(Long.toString(madeAtMs), Long.toString(ORDER_MEMORY_MS)))
      .map(r -> r.toInteger() == 1);
  }

  private Future<Change> apply(String username, ChangeTime at, UnaryOperator<JsonObject> change) {
    return queued(username, new ProfileService.Change(at, change))
      .map(p -> p == Patched.OLDER ? Change.OLDER : p == Patched.WRITTEN ? Change.PATCHED : Change.NO_COPY);
  }

  private Future<Change> outdate(String username, ChangeTime at) {
    return queued(username, new ProfileService.Change(at, null)).map(p -> p == Patched.OLDER ? Change.OLDER : Change.OUTDATED);
  }

  /** A change waiting for the ones before it to the same profile, and where its result goes. */
  private record Queued(ProfileService.Change change, Promise<Patched> result) {
  }

  /**
   * Applies {@code change} after every earlier change to the same profile on this instance has finished: the changes
   * that queued meanwhile (at most {@value #BATCH} at once) are applied together, in order, in one read and write of the
   * shared copy ({@link ProfileService#apply}). One at a time, a profile changed faster than one write's round trips
   * (a hot profile's link events, tens a second) fell behind for good: its events waited past the handler's deadline.
   */
  private Future<Patched> queued(String username, ProfileService.Change change) {
    Queued q = new Queued(change, Promise.promise());
    boolean first;
    // The engines of several shards (several event loops) share this handler: the queues are changed under one lock.
    synchronized (queues) {
      ArrayDeque<Queued> waiting = queues.get(username);
      first = waiting == null;
      if (first) {
        waiting = new ArrayDeque<>();
        queues.put(username, waiting);
      }
      waiting.add(q);
    }
    if (first) {
      next(username);
    }
    return q.result().future();
  }

  /** Applies the changes waiting for {@code username}, then the ones that queued meanwhile, until none is left. */
  private void next(String username) {
    List<Queued> batch = new ArrayList<>();
    synchronized (queues) {
      ArrayDeque<Queued> waiting = queues.get(username);
      while (batch.size() < BATCH && !waiting.isEmpty()) {
        batch.add(waiting.poll());
      }
      if (batch.isEmpty()) {
        queues.remove(username);
        return;
      }
    }
    List<ProfileService.Change> changes = new ArrayList<>(batch.size());
    batch.forEach(q -> changes.add(q.change()));
    List<Future<Patched>> results;
    try {
      results = profiles.apply(username, changes);
    } catch (RuntimeException e) {
      results = new ArrayList<>(batch.size());
      for (int i = 0; i < batch.size(); i++) {
        results.add(Future.failedFuture(e));
      }
    }
    for (int i = 0; i < batch.size(); i++) {
      results.get(i).onComplete(batch.get(i).result());
    }
    Future.join(results).onComplete(done -> next(username));
  }
}
