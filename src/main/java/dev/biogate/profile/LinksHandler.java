package dev.biogate.profile;

import dev.biogate.http.ApiException;
import dev.biogate.http.ErrorResponses;
import dev.biogate.http.RequestParams;
import dev.biogate.http.Usernames;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import dev.biogate.config.Secret;
import dev.biogate.crypto.HmacSha256;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/**
 * {@code GET /v1/profiles/{username}/links?cursor=C&limit=N}: cursor pagination over the cached profile's links.
 * The cursor is opaque to clients: an offset signed with HMAC-SHA256 over the username and the offset, so a forged,
 * altered or other profile's cursor is a 400 ({@code invalid_cursor}), never a 5xx and never a page it did not issue.
 * Instances share the key ({@code BIOGATE_CURSOR_SECRET}), so a cursor issued by one is honoured by all.
 */
public final class LinksHandler implements Handler<RoutingContext> {

  public static final int DEFAULT_LIMIT = 20;
  public static final int MAX_LIMIT = 100;
  private static final ApiException INVALID_LIMIT = new ApiException(400, "invalid_limit",
    "limit must be a whole number from 1 to " + MAX_LIMIT);

  private static final ApiException INVALID_CURSOR = new ApiException(400, "invalid_cursor", "the cursor is not one this API issued");

  /**
   * Heap a decoded link list takes per byte of the copy's JSON, for the bound on {@link #links}: ~5.6 KB for an
   * 8-link profile of ~1.6 KB (measured), more for short values.
   */
  static final int TREE_BYTES_PER_JSON_BYTE = 4;

  private final ProfileService service;
  private final Secret key;
  private final HmacSha256 hmac;
  /** The links decoded for the copies paged most: a copy's links are decoded once while it is paged. */
  private final Derived<JsonArray> links;

  /**
   * @param key the cursor signing key; {@code null} = a random key for this process
   * @param maxTreeBytes heap the decoded links of cached copies may take
   */
  public LinksHandler(ProfileService service, Secret key, long maxTreeBytes) {
    this.service = service;
    this.key = key != null ? key : randomKey();
    this.hmac = new HmacSha256(List.of(this.key));
    this.links = new Derived<>(maxTreeBytes, (p, l) -> 64 + TREE_BYTES_PER_JSON_BYTE * p.json().length());
  }

  /** Heap held now by decoded links (estimated as weighed). */
  public long treeBytesHeld() {
    return links.bytesHeld();
  }

  private static Secret randomKey() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return Secret.of(HexFormat.of().formatHex(b));
  }

  @Override
  public void handle(RoutingContext ctx) {
    String username = Usernames.normalize(ctx.pathParam("username"));
    if (username == null) {
      ErrorResponses.send(ctx.response(), Usernames.INVALID);
      return;
    }
    int offset;
    int limit;
    try {
      offset = decodeCursor(username, ctx.request().getParam("cursor"));
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
        // The profile read's remembered 404, with its negative-cache headers: without them a cache could keep it for
        // as long as it chose (a 404 is heuristically cacheable).
        ctx.response().setStatusCode(404).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .putHeader(HttpHeaders.CACHE_CONTROL, "public, max-age=" + service.freshness().negativeMs() / 1000).end(p.json());
        return;
      }
      JsonArray all = links.get(p, copy -> {
        JsonArray decoded = copy.decode().getJsonArray("links");
        return decoded != null ? decoded : new JsonArray();
      });
      if (offset > all.size()) {
        ErrorResponses.send(ctx.response(), new ApiException(400, "invalid_cursor", "the cursor does not point into this profile's links"));
        return;
      }
      int end = Math.min(all.size(), offset + limit);
      JsonArray page = new JsonArray(all.getList().subList(offset, end));
      JsonObject body = new JsonObject().put("links", page).put("next_cursor", end < all.size() ? encodeCursor(username, end) : null);
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CACHE_CONTROL, "public, max-age=" + service.freshness().freshMs() / 1000)
        .end(body.toBuffer());
    });
  }

  /** {@code <offset>.<hex HMAC of "links:<username>:<offset>">}. */
  String encodeCursor(String username, int offset) {
    String o = Integer.toString(offset);
    return o + "." + HmacSha256.sign(key, signedPrefix(username), o.getBytes(StandardCharsets.US_ASCII));
  }

  int decodeCursor(String username, String cursor) {
    if (cursor == null || cursor.isEmpty()) {
      return 0;
    }
    int dot = cursor.indexOf('.');
    if (dot < 1 || dot > 6 || cursor.length() != dot + 1 + HmacSha256.HEX_LENGTH) {
      throw INVALID_CURSOR;
    }
    for (int i = 0; i < dot; i++) {
      if (cursor.charAt(i) < '0' || cursor.charAt(i) > '9') {
        throw INVALID_CURSOR;
      }
    }
    byte[] offset = cursor.substring(0, dot).getBytes(StandardCharsets.US_ASCII);
    byte[] mac = cursor.substring(dot + 1).getBytes(StandardCharsets.US_ASCII);
    if (hmac.match(signedPrefix(username), offset, mac) != 0) {
      throw INVALID_CURSOR;
    }
    return Integer.parseInt(cursor, 0, dot, 10);
  }

  private static byte[] signedPrefix(String username) {
    return ("links:" + username + ":").getBytes(StandardCharsets.US_ASCII);
  }

  /** An empty {@code limit=} reads as absent here. */
  static int parseLimit(String limit) {
    return RequestParams.limit(limit == null || limit.isEmpty() ? null : limit, DEFAULT_LIMIT, MAX_LIMIT, INVALID_LIMIT);
  }
}
