package dev.biogate.events;

import dev.biogate.http.Usernames;
import dev.biogate.profile.ProfileService;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Keeps cached profiles fresh from Linktree's profile and link events without spending upstream budget. A complete
 * payload is applied to the held copy with {@link ProfileService#patch} (which republishes it to this instance's L1
 * and to L2), then every other instance is told to drop its L1 copy. Nothing cached: nothing to do (the next read
 * fetches the current profile). An incomplete payload cannot be applied, so every cached copy is purged instead.
 * <p>
 * Changes to one profile are applied one at a time, cluster-wide (queued per profile on this instance, and under a
 * short Redis lock across instances), and each starts from the shared L2 copy rather than this instance's L1,
 * which may predate another instance's latest change.
 */
final class ProfileEventHandler {

  private static final Logger LOG = LoggerFactory.getLogger(ProfileEventHandler.class);

  private final ProfileService profiles;
  private final CacheInvalidation invalidation;
  private final PatchLock lock;
  private final Map<String, Future<Void>> tails = new HashMap<>();

  ProfileEventHandler(ProfileService profiles, CacheInvalidation invalidation, PatchLock lock) {
    this.profiles = profiles;
    this.invalidation = invalidation;
    this.lock = lock;
  }

  Future<Void> profileUpdated(JsonObject data) {
    Object name = data.getValue("username");
    String username = name instanceof String ? Usernames.normalize((String) name) : null;
    if (username == null) {
      LOG.debug("acknowledged a profile.updated event without a valid username");
      return Future.succeededFuture();
    }
    if (!data.containsKey("bio") || !data.containsKey("avatar_url") || !data.containsKey("theme")) {
      return serialized(username, () -> invalidation.purge(username));
    }
    return apply(username, doc -> doc.put("bio", data.getValue("bio")).put("avatar_url", data.getValue("avatar_url"))
      .put("theme", data.getValue("theme")));
  }

  Future<Void> linkChanged(String type, JsonObject data) {
    String linkId = LinkChanges.linkId(data);
    Object name = data.getValue("username");
    Future<String> owner = name instanceof String ? Future.succeededFuture(Usernames.normalize((String) name))
      : linkId != null ? profiles.ownerOfLink(linkId) : Future.succeededFuture(null);
    return owner.compose(username -> {
      if (username == null) {
        // Typically a link of a profile nobody has read through the gateway: nothing cached to correct.
        LOG.debug("acknowledged a {} event whose creator is unknown", type);
        return Future.succeededFuture();
      }
      if (!LinkChanges.complete(type, data)) {
        return serialized(username, () -> invalidation.purge(username));
      }
      return apply(username, doc -> LinkChanges.apply(type, data, doc));
    });
  }

  private Future<Void> apply(String username, java.util.function.UnaryOperator<JsonObject> change) {
    return serialized(username, () -> {
      profiles.invalidateLocal(username);
      return profiles.patch(username, change).compose(applied -> invalidation.broadcast(username));
    });
  }

  /**
   * Runs {@code work} after every earlier change to the same profile on this instance has finished, and under the
   * cluster-wide {@link PatchLock} so that changes made by other instances are not overwritten either.
   */
  private Future<Void> serialized(String username, Supplier<Future<Void>> work) {
    Future<Void> previous = tails.getOrDefault(username, Future.succeededFuture());
    Future<Void> next = previous.transform(ar -> lock.run(username, work));
    tails.put(username, next);
    next.onComplete(ar -> tails.remove(username, next));
    return next;
  }
}
