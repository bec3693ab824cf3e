package dev.biogate.ops;

import dev.biogate.events.CacheInvalidation;
import dev.biogate.events.DeadLetters;
import dev.biogate.events.DeliveryHistory;
import dev.biogate.http.ApiException;
import dev.biogate.http.JsonAnswers;
import dev.biogate.http.RequestParams;
import dev.biogate.http.Usernames;
import dev.biogate.webhook.Envelopes;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The operator API under {@code /admin/*}, behind {@code Authorization: Bearer <admin token>} (compared in constant
 * time). Without a configured token every {@code /admin/*} request is refused with 401, as is a missing or wrong
 * token; the check guards the whole prefix, including admin routes other modules mount after this one.
 * <ul>
 *   <li>{@code GET /admin/dead-letters?limit=N}: count and the oldest N dead letters (no payloads)</li>
 *   <li>{@code POST /admin/dead-letters/{id}/replay[?shard=N]}, {@code POST /admin/dead-letters/replay}: replay one
 *       (on the listed shard; without it, on the lowest shard holding that id) / all</li>
 *   <li>{@code GET /admin/deliveries/{deliveryId}[?provider=P]}: a delivery's history (received, attempts, outcome);
 *       ids are the providers' own, so {@code provider} picks one (without it, the first holding the id answers and
 *       names the others in {@code other_providers})</li>
 *   <li>{@code POST /admin/cache/purge/{username}}: drop the shared copy and every instance's L1 copy</li>
 * </ul>
 */
public final class AdminHandler {

  private static final ApiException UNAVAILABLE = new ApiException(503, "unavailable", "redis is unavailable; retry later", 5);
  private static final int DEFAULT_LIMIT = 100;
  private static final int MAX_LIMIT = 1000;
  private static final ApiException INVALID_LIMIT = new ApiException(400, "invalid_limit", "limit must be 1-" + MAX_LIMIT);

  private final DeadLetters deadLetters;
  private final DeliveryHistory history;
  private final CacheInvalidation invalidation;

  /** The routes only; {@link AdminAuth} guards {@code /admin/*} for every admin route. */
  public AdminHandler(DeadLetters deadLetters, DeliveryHistory history, CacheInvalidation invalidation) {
    this.deadLetters = deadLetters;
    this.history = history;
    this.invalidation = invalidation;
  }

  public void mount(Router router) {
    router.get("/admin/dead-letters").handler(ctx -> answer(ctx, () -> limit(ctx), deadLetters::list));
    router.post("/admin/dead-letters/replay").handler(ctx -> answer(ctx, () -> null,
      v -> deadLetters.replayAll().map(n -> new JsonObject().put("replayed", n))));
    router.post("/admin/dead-letters/:id/replay").handler(ctx -> answer(ctx, () -> new DeadLetterRef(RequestParams.streamId(ctx.pathParam("id")),
        shard(ctx.queryParams().get("shard"))),
      ref -> (ref.shard() == null ? deadLetters.replay(ref.id()) : deadLetters.replay(ref.shard(), ref.id()))
        .compose(newId -> newId == null ? Future.failedFuture(notFound("no dead letter " + ref.id()))
          : Future.succeededFuture(new JsonObject().put("replayed", 1).put("id", ref.id()).put("stream_id", newId)))));
    router.get("/admin/deliveries/:deliveryId").handler(ctx -> answer(ctx, () -> new DeliveryRef(deliveryId(ctx.pathParam("deliveryId")),
        provider(ctx.queryParams().get("provider"))),
      ref -> (ref.provider() == null ? history.lookup(ref.id()) : history.lookup(ref.provider(), ref.id())).compose(h -> h == null ? Future.failedFuture(notFound("no delivery recorded under this id"))
        : Future.succeededFuture(h))));
    router.post("/admin/cache/purge/:username").handler(ctx -> answer(ctx, () -> Usernames.required(ctx.pathParam("username")),
      u -> invalidation.purge(u).map(v -> new JsonObject().put("purged", true).put("username", u))));
  }

  /** Runs {@code action} on a validated input and writes its JSON; validation and Redis failures become JSON errors. */
  public static <T> void answer(RoutingContext ctx, Supplier<T> input, Function<T, Future<JsonObject>> action) {
    JsonAnswers.answer(ctx, input, action, UNAVAILABLE);
  }

  private static Integer limit(RoutingContext ctx) {
    return RequestParams.limit(ctx.queryParams().get("limit"), DEFAULT_LIMIT, MAX_LIMIT, INVALID_LIMIT);
  }

  /** A dead letter by id, on one shard ({@code ?shard=N}, as listed) or on the lowest shard carrying that id. */
  private record DeadLetterRef(String id, Integer shard) {
  }

  private Integer shard(String raw) {
    if (raw == null) {
      return null;
    }
    try {
      int n = Integer.parseInt(raw);
      if (n >= 0 && n < deadLetters.shards()) {
        return n;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new ApiException(400, "invalid_shard", "shard must be 0-" + (deadLetters.shards() - 1));
  }

  /** A delivery by id, of one provider ({@code ?provider=}) or of whichever holds it first. */
  private record DeliveryRef(String id, String provider) {
  }

  private static String provider(String raw) {
    if (raw == null || DeliveryHistory.PROVIDERS.contains(raw)) {
      return raw;
    }
    throw new ApiException(400, "invalid_provider", "provider must be one of " + String.join(", ", DeliveryHistory.PROVIDERS));
  }

  /** An id a provider can have sent ({@link Envelopes#validId}); any other is malformed, not looked up. */
  private static String deliveryId(String id) {
    if (!Envelopes.validId(id)) {
      throw new ApiException(400, "invalid_id", "delivery ids are 1-200 visible ASCII characters");
    }
    return id;
  }

  private static ApiException notFound(String message) {
    return new ApiException(404, "not_found", message);
  }
}
