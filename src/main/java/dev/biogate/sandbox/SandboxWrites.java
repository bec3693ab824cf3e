package dev.biogate.sandbox;

import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The simulated write side of the Linktree API: link creation, update and deletion against the stored profiles,
 * honouring an {@code Idempotency-Key} header: a write repeated with a key already used is answered with the first
 * answer and not applied again. It also counts, per key, how many times a write was really applied, so a test can
 * prove each operation reached the profile once. Thread-safe.
 */
public final class SandboxWrites {

  /** One answer the API gave: status and body, replayed for a repeated idempotency key. */
  public record Answer(int status, JsonObject body) {
  }

  private final SandboxProfiles profiles;
  private final AtomicLong nextId = new AtomicLong(1);
  private final Map<String, Answer> byKey = new HashMap<>();
  private final Map<String, Integer> applied = new TreeMap<>();
  private long appliedTotal;
  private long replayed;

  SandboxWrites(SandboxProfiles profiles) {
    this.profiles = profiles;
  }

  /** {@code POST /links}: {@code username, title, url, position}; answers 201 with the link. */
  public synchronized Answer create(String key, JsonObject body) {
    Answer seen = replay(key);
    if (seen != null) {
      return seen;
    }
    String username = text(body, "username", true);
    SandboxProfile p = profiles.get(username).orElseThrow(() -> SandboxException.notFound("no profile named " + username));
    String url = text(body, "url", true);
    String title = text(body, "title", false);
    Object pos = body.getValue("position");
    int position = pos instanceof Number ? ((Number) pos).intValue() : p.links().size();
    SandboxProfile.Link link = new SandboxProfile.Link("lnk_w" + nextId.getAndIncrement(), title == null ? "" : title, url,
      position, null);
    java.util.List<SandboxProfile.Link> links = new java.util.ArrayList<>(p.links());
    links.add(link);
    profiles.put(new SandboxProfile(p.username(), p.bio(), p.avatarUrl(), p.theme(), links));
    return remember(key, new Answer(201, link.toJson().put("username", username)));
  }

  /** {@code PATCH /links/:id}: any of {@code title, url, position, thumbnail_url}. */
  public synchronized Answer update(String key, String linkId, JsonObject body) {
    Answer seen = replay(key);
    if (seen != null) {
      return seen;
    }
    SandboxProfile p = owner(linkId);
    java.util.List<SandboxProfile.Link> links = new java.util.ArrayList<>();
    SandboxProfile.Link updated = null;
    for (SandboxProfile.Link l : p.links()) {
      if (l.id().equals(linkId)) {
        Object pos = body.getValue("position");
        l = new SandboxProfile.Link(l.id(), orElse(text(body, "title", false), l.title()), orElse(text(body, "url", false), l.url()),
          pos instanceof Number ? ((Number) pos).intValue() : l.position(), orElse(text(body, "thumbnail_url", false), l.thumbnailUrl()));
        updated = l;
      }
      links.add(l);
    }
    profiles.put(new SandboxProfile(p.username(), p.bio(), p.avatarUrl(), p.theme(), links));
    return remember(key, new Answer(200, updated.toJson().put("username", p.username())));
  }

  /** {@code DELETE /links/:id}. */
  public synchronized Answer delete(String key, String linkId) {
    Answer seen = replay(key);
    if (seen != null) {
      return seen;
    }
    SandboxProfile p = owner(linkId);
    java.util.List<SandboxProfile.Link> links = new java.util.ArrayList<>(p.links());
    links.removeIf(l -> l.id().equals(linkId));
    profiles.put(new SandboxProfile(p.username(), p.bio(), p.avatarUrl(), p.theme(), links));
    return remember(key, new Answer(200, new JsonObject().put("id", linkId).put("deleted", true)));
  }

  /** {@code {"applied_total","replayed","applied":{key: times applied}}}. */
  public synchronized JsonObject toJson() {
    JsonObject perKey = new JsonObject();
    applied.forEach(perKey::put);
    return new JsonObject().put("applied_total", appliedTotal).put("replayed", replayed).put("applied", perKey);
  }

  public synchronized void reset() {
    byKey.clear();
    applied.clear();
    appliedTotal = 0;
    replayed = 0;
  }

  private Answer replay(String key) {
    Answer a = key == null ? null : byKey.get(key);
    if (a != null) {
      replayed++;
    }
    return a;
  }

  private Answer remember(String key, Answer a) {
    appliedTotal++;
    if (key != null) {
      byKey.put(key, a);
      applied.merge(key, 1, Integer::sum);
    }
    return a;
  }

  private SandboxProfile owner(String linkId) {
    return profiles.owner(linkId).orElseThrow(() -> SandboxException.notFound("no link " + linkId));
  }

  private static String orElse(String v, String def) {
    return v == null ? def : v;
  }

  private static String text(JsonObject body, String key, boolean required) {
    Object v = body.getValue(key);
    if (v == null && !required) {
      return null;
    }
    if (!(v instanceof String) || ((String) v).isBlank()) {
      throw SandboxException.badRequest("invalid_" + key, key + " must be a non-empty string");
    }
    return (String) v;
  }
}
