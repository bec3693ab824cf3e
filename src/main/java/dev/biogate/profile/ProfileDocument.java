package dev.biogate.profile;

import dev.biogate.crypto.Sha256;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Turns an upstream profile into the gateway's canonical document and its ready-to-serve forms. Only the contract's
 * fields are kept ({@code username, bio, avatar_url, theme, links[]} with {@code id, title, url, position,
 * thumbnail_url}); links are ordered by position. This is the one place a profile is serialised.
 */
public final class ProfileDocument {

  private ProfileDocument() {
  }

  public static JsonObject canonical(String username, JsonObject upstream) {
    JsonArray links = new JsonArray();
    Object rawLinks = upstream.getValue("links");
    JsonArray raw = rawLinks instanceof JsonArray ? (JsonArray) rawLinks : new JsonArray();
    List<JsonObject> sorted = new ArrayList<>();
    for (int i = 0; i < raw.size(); i++) {
      Object o = raw.getValue(i);
      if (o instanceof JsonObject) {
        sorted.add((JsonObject) o);
      }
    }
    sorted.sort(Comparator.comparingLong(l -> position(l)));
    for (JsonObject l : sorted) {
      Object id = l.getValue("id");
      if (id == null) {
        continue;
      }
      JsonObject link = link(id.toString(), string(l, "title"), string(l, "url"), Math.min(position(l), MAX_POSITION),
        string(l, "thumbnail_url"));
      if (link == null) {
        ProfileSanitizer.countDropped();
        continue;
      }
      links.add(link);
    }
    Object theme = upstream.getValue("theme");
    return new JsonObject()
      .put("username", username)
      .put("bio", ProfileSanitizer.text(string(upstream, "bio") == null ? "" : string(upstream, "bio"), ProfileSanitizer.MAX_BIO))
      .put("avatar_url", ProfileSanitizer.imageUrl(string(upstream, "avatar_url")))
      .put("theme", theme instanceof String ? ProfileSanitizer.text((String) theme, 64) : null)
      .put("links", links);
  }

  /**
   * A link as a profile serves it, from the upstream or a webhook alike: its title cleaned, its URLs checked; {@code
   * null} when it may not be served (an id no redirect takes, {@link ProfileSanitizer#followableLinkId}, or a URL a link
   * may not point to).
   */
  public static JsonObject link(String id, String title, String url, long position, String thumbnailUrl) {
    String target = ProfileSanitizer.linkUrl(url);
    if (target == null || !ProfileSanitizer.followableLinkId(id)) {
      return null;
    }
    return new JsonObject()
      .put("id", id)
      .put("title", ProfileSanitizer.text(title == null ? "" : title, ProfileSanitizer.MAX_TITLE))
      .put("url", target)
      .put("position", position)
      .put("thumbnail_url", ProfileSanitizer.imageUrl(thumbnailUrl));
  }

  /** A string field, tolerating other JSON types (numbers become text, objects and arrays are ignored). */
  private static String string(JsonObject o, String key) {
    Object v = o.getValue(key);
    return v instanceof String ? (String) v : v instanceof Number || v instanceof Boolean ? v.toString() : null;
  }

  /**
   * Positions are served within what a JavaScript number holds exactly (2^53 - 1): a link without a numeric position
   * was served with its sort key, 9223372036854775807, which a browser reads as 9223372036854776000.
   */
  static final long MAX_POSITION = (1L << 53) - 1;

  /** A link's sort key: its position within +-{@link #MAX_POSITION}; after every numbered link when it has none. */
  private static long position(JsonObject link) {
    Object p = link.getValue("position");
    return p instanceof Number ? Math.max(-MAX_POSITION, Math.min(MAX_POSITION, ((Number) p).longValue())) : Long.MAX_VALUE;
  }

  /** A servable copy of a found profile. */
  public static CachedProfile found(String username, JsonObject canonical, long fetchedAtMs) {
    Buffer json = canonical.toBuffer();
    return new CachedProfile(username, true, fetchedAtMs, json, gzip(json), etag(json));
  }

  /** A servable copy of "no such profile". */
  public static CachedProfile notFound(String username, long fetchedAtMs) {
    Buffer json = new JsonObject().put("error", "profile_not_found")
      .put("message", "no profile named '" + username + "'").toBuffer();
    return new CachedProfile(username, false, fetchedAtMs, json, null, null);
  }

  static Buffer gzip(Buffer json) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(json.length() / 3 + 64);
    try (GZIPOutputStream gz = new GZIPOutputStream(out, 8192) {
      {
        def.setLevel(Deflater.BEST_COMPRESSION);
      }
    }) {
      gz.write(json.getBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Buffer.buffer(out.toByteArray());
  }

  /** Strong validator: a digest of the exact bytes served (identity form; gzip form differs only in encoding). */
  static String etag(Buffer json) {
    byte[] d = Sha256.of(json.getBytes());
    return '"' + Base64.getUrlEncoder().withoutPadding().encodeToString(d).substring(0, 27) + '"';
  }
}
