package dev.biogate.profile;

import dev.biogate.http.ApiException;
import dev.biogate.http.ErrorResponses;
import dev.biogate.http.Usernames;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * {@code GET /v1/profiles/{username}/links?cursor=C&limit=N}: cursor pagination over the cached profile's links.
 * The cursor is opaque to clients (an encoded offset); an unknown or tampered cursor is a 400, never a 5xx.
 */
public final class LinksHandler implements Handler<RoutingContext> {

  public static final int DEFAULT_LIMIT = 20;
  public static final int MAX_LIMIT = 100;

  private final ProfileService service;

  public LinksHandler(ProfileService service) {
    this.service = service;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String username = Usernames.normalize(ctx.pathParam("username"));
    if (username == null) {
      ErrorResponses.send(ctx.response(), new ApiException(400, "invalid_username", "usernames are 1-64 of [A-Za-z0-9._-]"));
      return;
    }
    int offset;
    int limit;
    try {
      offset = decodeCursor(ctx.request().getParam("cursor"));
      limit = parseLimit(ctx.request().getParam("limit"));
    } catch (ApiException e) {
      ErrorResponses.send(ctx.response(), e);
      return;
    }
    service.lookup(username).onComplete(ar -> {
      if (ar.failed()) {
        ErrorResponses.send(ctx.response(), ProfileErrors.toHttp(ar.cause()));
        return;
      }
      CachedProfile p = ar.result();
      if (!p.found()) {
        ctx.response().setStatusCode(404).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(p.json());
        return;
      }
      JsonArray all = p.document().getJsonArray("links");
      if (offset > all.size()) {
        ErrorResponses.send(ctx.response(), new ApiException(400, "invalid_cursor", "the cursor does not point into this profile's links"));
        return;
      }
      int end = Math.min(all.size(), offset + limit);
      JsonArray page = new JsonArray(all.getList().subList(offset, end));
      JsonObject body = new JsonObject().put("links", page).put("next_cursor", end < all.size() ? encodeCursor(end) : null);
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CACHE_CONTROL, "public, max-age=" + service.freshness().freshMs() / 1000)
        .end(body.toBuffer());
    });
  }

  static String encodeCursor(int offset) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(("o" + offset).getBytes(StandardCharsets.US_ASCII));
  }

  static int decodeCursor(String cursor) {
    if (cursor == null || cursor.isEmpty()) {
      return 0;
    }
    try {
      String s = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.US_ASCII);
      if (s.length() < 2 || s.length() > 8 || s.charAt(0) != 'o') {
        throw new IllegalArgumentException();
      }
      int offset = Integer.parseInt(s.substring(1));
      if (offset < 0) {
        throw new IllegalArgumentException();
      }
      return offset;
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, "invalid_cursor", "the cursor is not one this API issued");
    }
  }

  static int parseLimit(String limit) {
    if (limit == null || limit.isEmpty()) {
      return DEFAULT_LIMIT;
    }
    try {
      int n = Integer.parseInt(limit);
      if (n >= 1 && n <= MAX_LIMIT) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // fall through to the error
    }
    throw new ApiException(400, "invalid_limit", "limit must be a whole number from 1 to " + MAX_LIMIT);
  }
}
