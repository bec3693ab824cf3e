package dev.biogate.events;

import dev.biogate.profile.ProfileDocument;
import dev.biogate.profile.ProfileSanitizer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * What a Linktree link event carries, and how it changes a cached profile document: created/updated insert or
 * replace the link (the canonical form re-sorts links by position), deleted removes it. A payload is complete when
 * it holds every field the change needs (created: link_id, title, url, position; updated: also thumbnail_url;
 * deleted: link_id); only complete payloads are applied.
 */
final class LinkChanges {

  private static final List<String> CREATED = List.of("link_id", "title", "url", "position");
  private static final List<String> UPDATED = List.of("link_id", "title", "url", "position", "thumbnail_url");
  /** The highest position the links API accepts. */
  private static final int MAX_POSITION = 10_000;

  private LinkChanges() {
  }

  /**
   * The link id as the cached document stores it (a string), or {@code null}: also for an id no redirect takes
   * ({@link ProfileSanitizer#followableLinkId}), which the upstream path drops too; such a change only outdates the copy.
   */
  static String linkId(JsonObject data) {
    Object id = data.getValue("link_id");
    String s = id instanceof String || id instanceof Number ? id.toString() : null;
    return ProfileSanitizer.followableLinkId(s) ? s : null;
  }

  static boolean complete(String type, JsonObject data) {
    if ("link.deleted".equals(type)) {
      return linkId(data) != null;
    }
    List<String> needed = "link.created".equals(type) ? CREATED : UPDATED;
    for (String f : needed) {
      if (!data.containsKey(f)) {
        return false;
      }
    }
    // The URL as the upstream path accepts it (http/https, mailto, tel): anything else is not served either way.
    return linkId(data) != null && data.getValue("url") instanceof String && ProfileSanitizer.linkUrl(data.getString("url")) != null
      && position(data) >= 0;
  }

  /**
   * The position as the links API accepts it, a whole number from 0 to {@value #MAX_POSITION}, or -1 for anything else
   * (a payload with such a position is incomplete: 1e30 used to be served wrapped around, -7 and 1.9 as given).
   */
  static long position(JsonObject data) {
    Object p = data.getValue("position");
    if (!(p instanceof Number)) {
      return -1;
    }
    double d = ((Number) p).doubleValue();
    return d >= 0 && d <= MAX_POSITION && d == Math.rint(d) ? (long) d : -1;
  }

  /** Applies the change to {@code doc} (a copy the caller owns) and returns it. */
  static JsonObject apply(String type, JsonObject data, JsonObject doc) {
    String id = linkId(data);
    JsonArray links = doc.getJsonArray("links", new JsonArray());
    JsonArray kept = new JsonArray();
    for (int i = 0; i < links.size(); i++) {
      Object l = links.getValue(i);
      if (!(l instanceof JsonObject) || !id.equals(String.valueOf(((JsonObject) l).getValue("id")))) {
        kept.add(l);
      }
    }
    if (!"link.deleted".equals(type)) {
      // Built as the upstream path builds a profile's links; complete() has checked the id and the URL.
      kept.add(ProfileDocument.link(id, data.getValue("title") instanceof String ? data.getString("title") : null,
        data.getString("url"), position(data), data.getValue("thumbnail_url") instanceof String ? data.getString("thumbnail_url") : null));
    }
    return doc.put("links", kept);
  }
}
