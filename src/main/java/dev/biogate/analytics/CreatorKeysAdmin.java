package dev.biogate.analytics;

import dev.biogate.http.ApiException;
import dev.biogate.http.JsonAnswers;
import dev.biogate.http.Usernames;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Issuing and revoking creators' analytics API keys, behind the admin token:
 * <ul>
 *   <li>{@code POST /admin/creators/{username}/keys} → {@code 201 {"username","key_id","key","created_at"}}: the
 *   key is in this answer only</li>
 *   <li>{@code GET /admin/creators/{username}/keys} → {@code {"username","keys":[{"key_id","created_at"}]}}</li>
 *   <li>{@code DELETE /admin/creators/{username}/keys/{keyId}} → {@code {"revoked":true,"key_id"}}, {@code 404} if
 *   the creator has no such key</li>
 * </ul>
 */
public final class CreatorKeysAdmin {

  private static final ApiException NO_KEY = new ApiException(404, "key_not_found", "this creator has no such key");
  private static final ApiException UNAVAILABLE = new ApiException(503, "unavailable", "the key store is unavailable; retry later", 5);

  private final CreatorKeys keys;
  private final LongSupplier clock;

  public CreatorKeysAdmin(CreatorKeys keys, LongSupplier clock) {
    this.keys = keys;
    this.clock = clock;
  }

  public void mount(Router router) {
    router.post("/admin/creators/:username/keys").handler(ctx -> answer(ctx, 201, u -> keys.issue(u, clock.getAsLong())
      .map(k -> new JsonObject().put("username", u).put("key_id", k.keyId()).put("key", k.key())
        .put("created_at", Instant.ofEpochMilli(k.createdAtMs()).toString()))));
    router.get("/admin/creators/:username/keys").handler(ctx -> answer(ctx, 200, u -> keys.list(u)
      .map(list -> new JsonObject().put("username", u).put("keys", list))));
    router.delete("/admin/creators/:username/keys/:keyId").handler(ctx -> answer(ctx, 200, u -> {
      String keyId = ctx.pathParam("keyId");
      if (!CreatorKeys.validKeyId(keyId)) {
        return Future.failedFuture(NO_KEY);
      }
      return keys.revoke(u, keyId).compose(found -> found
        ? Future.succeededFuture(new JsonObject().put("revoked", true).put("key_id", keyId)) : Future.failedFuture(NO_KEY));
    }));
  }

  /** Runs {@code action} for the path's (validated) creator and writes its JSON, or the failure as a JSON error. */
  private static void answer(RoutingContext ctx, int status, Function<String, Future<JsonObject>> action) {
    JsonAnswers.answer(ctx, status, () -> Usernames.required(ctx.pathParam("username")), action, UNAVAILABLE);
  }
}
