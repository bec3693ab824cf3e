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
 * payload is applied to the shared copy with {@link ProfileService#patch}; an incomplete one cannot be applied, so
 * the copy is marked outdated with {@link ProfileService#outdate}: the next read fetches the current profile, and the
 * last good copy is served only while the upstream fails. Both are versioned writes: every other instance keeps its
 * older L1 copy only as an outdated one, and a fetch already in flight can no longer publish its older copy over
 * them.
 * <p>
 * Changes to one profile are queued on this instance so they apply in stream order; across instances, the
 * versioned write makes a patch that raced another write read the copy again instead of overwriting it.
 */
final class ProfileEventHandler {

  private static final Logger LOG = LoggerFactory.getLogger(ProfileEventHandler.class);

  private final ProfileService profiles;
  private final Map<String, Future<Void>> tails = new HashMap<>();

  ProfileEventHandler(ProfileService profiles) {
    this.profiles = profiles;
  }

  Future<Void> profileUpdated(JsonObject data) {
    Object name = data.getValue("username");
    String username = name instanceof String ? Usernames.normalize((String) name) : null;
    if (username == null) {
      LOG.debug("acknowledged a profile.updated event without a valid username");
      return Future.succeededFuture();
    }
    if (!data.containsKey("bio") || !data.containsKey("avatar_url") || !data.containsKey("theme")) {
      return serialized(username, () -> profiles.outdate(username));
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
        return serialized(username, () -> profiles.outdate(username));
      }
      return apply(username, doc -> LinkChanges.apply(type, data, doc));
    });
  }

  private Future<Void> apply(String username, java.util.function.UnaryOperator<JsonObject> change) {
    return serialized(username, () -> profiles.patch(username, change).mapEmpty());
  }

  /** Runs {@code work} after every earlier change to the same profile on this instance has finished. */
  private Future<Void> serialized(String username, Supplier<Future<Void>> work) {
    Future<Void> previous = tails.getOrDefault(username, Future.succeededFuture());
    Future<Void> next = previous.transform(ar -> work.get());
    tails.put(username, next);
    next.onComplete(ar -> tails.remove(username, next));
    return next;
  }
}
