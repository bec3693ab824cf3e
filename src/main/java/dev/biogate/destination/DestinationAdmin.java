package dev.biogate.destination;

import dev.biogate.http.ApiException;
import dev.biogate.http.JsonAnswers;
import dev.biogate.http.RequestParams;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.function.Supplier;

/**
 * The outbound destinations' operator API (behind the admin token that guards {@code /admin/*}):
 * <ul>
 *   <li>{@code GET /admin/destinations}: each destination (no secrets) with its breaker state</li>
 *   <li>{@code GET /admin/destinations/dead-letters?limit=N}: deliveries that exhausted their attempts</li>
 *   <li>{@code POST /admin/destinations/dead-letters/{id}/replay}: one more round of attempts, same webhook-id</li>
 *   <li>{@code GET /admin/destinations/deliveries/{webhookId}}: outcome and every attempt of one delivery</li>
 * </ul>
 */
public final class DestinationAdmin {

  private static final ApiException UNAVAILABLE = new ApiException(503, "unavailable", "redis is unavailable; retry later", 5);
  private static final ApiException INVALID_LIMIT = new ApiException(400, "invalid_limit", "limit must be 1-1000");

  private final DestinationSender sender;
  private final OutboundDeadLetters deadLetters;

  public DestinationAdmin(DestinationSender sender, OutboundDeadLetters deadLetters) {
    this.sender = sender;
    this.deadLetters = deadLetters;
  }

  public void mount(Router r) {
    r.get("/admin/destinations").handler(ctx -> answer(ctx, () -> Future.succeededFuture(
      new JsonObject().put("destinations", sender.describe()))));
    r.get("/admin/destinations/dead-letters").handler(ctx -> answer(ctx, () -> deadLetters.list(limit(ctx))));
    r.post("/admin/destinations/dead-letters/:id/replay").handler(ctx -> answer(ctx, () -> {
      String id = RequestParams.streamId(ctx.pathParam("id"));
      return deadLetters.replay(id).compose(n -> n == null ? Future.failedFuture(notFound("no dead letter " + id))
        : Future.succeededFuture(new JsonObject().put("replayed", 1).put("id", id).put("stream_id", n)));
    }));
    r.get("/admin/destinations/deliveries/:webhookId").handler(ctx -> answer(ctx, () -> {
      String id = webhookId(ctx.pathParam("webhookId"));
      return deadLetters.history(id).compose(h -> h == null ? Future.failedFuture(notFound("no delivery under this webhook-id"))
        : Future.succeededFuture(h));
    }));
  }

  /** Answered like every other admin route: JSON, {@code no-store}, API errors as they are, anything else 503. */
  private static void answer(RoutingContext ctx, Supplier<Future<JsonObject>> action) {
    JsonAnswers.answer(ctx, () -> null, v -> action.get(), UNAVAILABLE);
  }

  private static int limit(RoutingContext ctx) {
    return RequestParams.limit(ctx.queryParams().get("limit"), 100, 1000, INVALID_LIMIT);
  }

  private static String webhookId(String id) {
    if (id == null || id.length() != 36 || !id.startsWith("msg_")) {
      throw new ApiException(400, "invalid_id", "webhook ids look like msg_ followed by 32 hex digits");
    }
    return id;
  }

  private static ApiException notFound(String message) {
    return new ApiException(404, "not_found", message);
  }
}
