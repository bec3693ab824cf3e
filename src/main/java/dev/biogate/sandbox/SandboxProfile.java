package dev.biogate.sandbox;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One immutable link-in-bio profile as the simulated Linktree API serves it, with its full list of links
 * in display order. {@link #fromJson} is the validation applied to profiles a test uploads.
 */
public record SandboxProfile(String username, String bio, String avatarUrl, String theme, List<Link> links) {

  /** One link: {@code {"id","title","url","position","thumbnail_url"}}; the thumbnail may be null. */
  public record Link(String id, String title, String url, int position, String thumbnailUrl) {

    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("title", title).put("url", url).put("position", position)
        .put("thumbnail_url", thumbnailUrl);
    }
  }

  private static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  public SandboxProfile {
    links = List.copyOf(links);
  }

  public static boolean validUsername(String username) {
    return username != null && USERNAME.matcher(username).matches();
  }

  /**
   * A profile from {@code {"username","bio","avatar_url","theme","links":[...]}} stored under {@code username};
   * a body naming another username is refused. Missing link ids, titles and positions are filled in.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public static SandboxProfile fromJson(String username, JsonObject json) {
    if (!validUsername(username)) {
      throw new IllegalArgumentException("username must match " + USERNAME.pattern());
    }
    Object named = json.getValue("username");
    if (named != null && !username.equals(named)) {
      throw new IllegalArgumentException("body username does not match the path");
    }
    if (!(json.getValue("links") instanceof JsonArray)) {
      throw new IllegalArgumentException("links must be an array");
    }
    JsonArray array = json.getJsonArray("links");
    List<Link> links = new ArrayList<>(array.size());
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof JsonObject)) {
        throw new IllegalArgumentException("links[" + i + "] must be an object");
      }
      JsonObject l = array.getJsonObject(i);
      String url = string(l, "url", null, "links[" + i + "].url");
      if (url == null || url.isBlank()) {
        throw new IllegalArgumentException("links[" + i + "].url is required");
      }
      String id = string(l, "id", username + "-" + (i + 1), "links[" + i + "].id");
      if (!ids.add(id)) {
        throw new IllegalArgumentException("duplicate link id " + id);
      }
      Object position = l.getValue("position") == null ? Integer.valueOf(i) : l.getValue("position");
      if (!(position instanceof Integer || position instanceof Long)) {
        throw new IllegalArgumentException("links[" + i + "].position must be an integer");
      }
      links.add(new Link(id, string(l, "title", "", "links[" + i + "].title"), url, ((Number) position).intValue(),
        string(l, "thumbnail_url", null, "links[" + i + "].thumbnail_url")));
    }
    return new SandboxProfile(username, string(json, "bio", "", "bio"), string(json, "avatar_url", null, "avatar_url"),
      string(json, "theme", "default", "theme"), links);
  }

  /** The API shape: profile fields, the first page of links and the cursor to the next page (or null). */
  public JsonObject toJson(int pageSize) {
    JsonObject page = linksPage(0, pageSize);
    return fields().put("links", page.getJsonArray("data")).put("links_next_cursor", page.getString("next_cursor"));
  }

  /** {@code {"data":[links from offset],"next_cursor":...}}; an offset past the end gives an empty last page. */
  public JsonObject linksPage(int offset, int pageSize) {
    JsonArray data = new JsonArray();
    int end = (int) Math.min(links.size(), (long) offset + pageSize);
    for (int i = offset; i < end; i++) {
      data.add(links.get(i).toJson());
    }
    String next = end < links.size() ? SandboxCursor.encode(end) : null;
    return new JsonObject().put("data", data).put("next_cursor", next);
  }

  /** The stored form: profile fields and every link. */
  public JsonObject toFullJson() {
    JsonArray all = new JsonArray();
    links.forEach(l -> all.add(l.toJson()));
    return fields().put("links", all);
  }

  private JsonObject fields() {
    return new JsonObject().put("username", username).put("bio", bio).put("avatar_url", avatarUrl).put("theme", theme);
  }

  private static String string(JsonObject json, String key, String def, String name) {
    Object v = json.getValue(key);
    if (v == null) {
      return def;
    }
    if (!(v instanceof String)) {
      throw new IllegalArgumentException(name + " must be a string");
    }
    return (String) v;
  }
}
