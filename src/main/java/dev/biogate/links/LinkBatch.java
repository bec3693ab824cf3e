package dev.biogate.links;

import dev.biogate.http.ApiException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Validates the body of {@code POST /admin/creators/{username}/links/batch}: a JSON array of 1 to
 * {@value #MAX_OPS} operations, each {@code {"op":"create","title","url"[,"position"]}},
 * {@code {"op":"update","link_id"[,"title"][,"url"][,"position"]}} (at least one change) or
 * {@code {"op":"delete","link_id"}}. Unknown fields are refused, so a typo never silently does nothing. Every
 * refusal is a 400 naming the operation index and field. Linear in the body size; no regular expressions.
 */
final class LinkBatch {

  static final int MAX_OPS = 1000;
  private static final int MAX_TITLE = 256;
  private static final int MAX_URL = 2048;
  private static final int MAX_ID = 64;
  private static final int MAX_POSITION = 10_000;
  private static final Set<String> CREATE_FIELDS = Set.of("op", "title", "url", "position");
  private static final Set<String> UPDATE_FIELDS = Set.of("op", "link_id", "title", "url", "position");
  private static final Set<String> DELETE_FIELDS = Set.of("op", "link_id");

  private LinkBatch() {
  }

  static List<LinkOp> parse(Buffer body) {
    Object value;
    try {
      value = body == null || body.length() == 0 ? null : body.toJsonValue();
    } catch (DecodeException | IllegalArgumentException e) {
      throw invalid("malformed_json", "the body is not valid JSON");
    }
    if (!(value instanceof JsonArray)) {
      throw invalid("invalid_batch", "the body must be a JSON array of operations");
    }
    JsonArray array = (JsonArray) value;
    if (array.isEmpty() || array.size() > MAX_OPS) {
      throw invalid("invalid_batch", "a batch holds 1 to " + MAX_OPS + " operations, got " + array.size());
    }
    List<LinkOp> ops = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      Object item = array.getValue(i);
      if (!(item instanceof JsonObject)) {
        throw invalid("invalid_operation", "ops[" + i + "] must be an object");
      }
      ops.add(operation(i, (JsonObject) item));
    }
    return ops;
  }

  private static LinkOp operation(int i, JsonObject o) {
    Object op = o.getValue("op");
    String where = "ops[" + i + "]";
    if (LinkOp.CREATE.equals(op)) {
      known(where, o, CREATE_FIELDS);
      return new LinkOp(LinkOp.CREATE, null, text(where, o, "title", MAX_TITLE, false), url(where, o, true), position(where, o));
    }
    if (LinkOp.UPDATE.equals(op)) {
      known(where, o, UPDATE_FIELDS);
      LinkOp u = new LinkOp(LinkOp.UPDATE, linkId(where, o), text(where, o, "title", MAX_TITLE, false), url(where, o, false),
        position(where, o));
      if (u.title() == null && u.url() == null && u.position() == null) {
        throw invalid("invalid_operation", where + " changes nothing: give title, url or position");
      }
      return u;
    }
    if (LinkOp.DELETE.equals(op)) {
      known(where, o, DELETE_FIELDS);
      return new LinkOp(LinkOp.DELETE, linkId(where, o), null, null, null);
    }
    throw invalid("invalid_operation", where + ".op must be create, update or delete");
  }

  private static void known(String where, JsonObject o, Set<String> allowed) {
    for (String f : o.fieldNames()) {
      if (!allowed.contains(f)) {
        throw invalid("invalid_operation", where + " has an unknown field (allowed: " + String.join(", ", allowed) + ")");
      }
    }
  }

  private static String text(String where, JsonObject o, String key, int max, boolean required) {
    Object v = o.getValue(key);
    if (v == null && !required) {
      return null;
    }
    // A lone surrogate (a JSON escape can send one) would reach the upstream as "?" in its place.
    if (!(v instanceof String) || ((String) v).isBlank() || ((String) v).codePointCount(0, ((String) v).length()) > max
      || dev.biogate.profile.ProfileSanitizer.loneSurrogate((String) v)) {
      throw invalid("invalid_operation", where + "." + key + " must be a non-empty string of at most " + max
        + " characters (no unpaired surrogate)");
    }
    return (String) v;
  }

  private static String linkId(String where, JsonObject o) {
    Object v = o.getValue("link_id");
    String id = v instanceof String ? (String) v : null;
    if (id == null || id.isEmpty() || id.length() > MAX_ID) {
      throw invalid("invalid_operation", where + ".link_id must be 1-" + MAX_ID + " of [A-Za-z0-9._-]");
    }
    for (int c = 0; c < id.length(); c++) {
      char ch = id.charAt(c);
      if (!(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_' || ch == '-')) {
        throw invalid("invalid_operation", where + ".link_id must be 1-" + MAX_ID + " of [A-Za-z0-9._-]");
      }
    }
    return id;
  }

  private static String url(String where, JsonObject o, boolean required) {
    String s = text(where, o, "url", MAX_URL, required);
    if (s == null) {
      return null;
    }
    try {
      URI u = new URI(s);
      // And one the profile would serve: ProfileSanitizer drops what cannot be followed (a lone surrogate, a port
      // that cannot exist, invisible characters), which would otherwise be stored and applied changed or not at all.
      boolean web = "http".equals(u.getScheme()) || "https".equals(u.getScheme());
      if (web && u.getHost() != null && u.getRawUserInfo() == null && dev.biogate.profile.ProfileSanitizer.linkUrl(s) != null) {
        return s;
      }
    } catch (Exception e) {
      // refused below
    }
    throw invalid("invalid_operation", where + ".url must be an absolute http(s) URL without credentials");
  }

  private static Integer position(String where, JsonObject o) {
    Object v = o.getValue("position");
    if (v == null) {
      return null;
    }
    if (!(v instanceof Integer || v instanceof Long) || ((Number) v).longValue() < 0 || ((Number) v).longValue() > MAX_POSITION) {
      throw invalid("invalid_operation", where + ".position must be an integer from 0 to " + MAX_POSITION);
    }
    return ((Number) v).intValue();
  }

  private static ApiException invalid(String code, String message) {
    return new ApiException(400, code, message);
  }
}
