package dev.biogate.links;

import dev.biogate.upstream.Lane;
import dev.biogate.upstream.LinktreeClient;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

/**
 * One validated operation of a link batch: {@code create} (title, url, optional position), {@code update} (link_id
 * and any of title, url, position) or {@code delete} (link_id). Its JSON form is what the job stores.
 */
record LinkOp(String op, String linkId, String title, String url, Integer position) {

  static final String CREATE = "create";
  static final String UPDATE = "update";
  static final String DELETE = "delete";

  JsonObject toJson() {
    JsonObject j = new JsonObject().put("op", op);
    if (linkId != null) {
      j.put("link_id", linkId);
    }
    if (title != null) {
      j.put("title", title);
    }
    if (url != null) {
      j.put("url", url);
    }
    if (position != null) {
      j.put("position", position);
    }
    return j;
  }

  static LinkOp fromJson(JsonObject j) {
    return new LinkOp(j.getString("op"), j.getString("link_id"), j.getString("title"), j.getString("url"), j.getInteger("position"));
  }

  /** Sends this operation for {@code username} to the upstream, in the lowest lane, under {@code idempotencyKey}. */
  Future<JsonObject> apply(LinktreeClient upstream, String username, String idempotencyKey) {
    switch (op) {
      case CREATE:
        JsonObject body = new JsonObject().put("username", username).put("title", title == null ? "" : title).put("url", url);
        if (position != null) {
          body.put("position", position);
        }
        return upstream.write(HttpMethod.POST, "/links", body, idempotencyKey, Lane.BACKGROUND);
      case UPDATE:
        JsonObject patch = toJson();
        patch.remove("op");
        patch.remove("link_id");
        return upstream.write(HttpMethod.PATCH, "/links/" + linkId, patch, idempotencyKey, Lane.BACKGROUND);
      default:
        return upstream.write(HttpMethod.DELETE, "/links/" + linkId, null, idempotencyKey, Lane.BACKGROUND);
    }
  }
}
