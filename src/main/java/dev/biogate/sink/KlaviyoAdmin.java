package dev.biogate.sink;

import dev.biogate.http.ApiException;
import dev.biogate.http.JsonAnswers;
import dev.biogate.http.RequestParams;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST /admin/sinks/klaviyo/replay?limit=N} (admin token): moves up to N (default 1000) of the sink's dead
 * letters back to delivery, oldest first, and answers {@code {"replayed":n,"dead_letters":left}}. A paused sink
 * (Klaviyo refused the key) re-checks the key at once. {@code 409} when the sink is disabled.
 */
public final class KlaviyoAdmin {

  private static final ApiException DISABLED = new ApiException(409, "sink_disabled", "the Klaviyo sink is not enabled (KLAVIYO_ENABLED)");
  private static final ApiException BAD_LIMIT = new ApiException(400, "invalid_limit", "limit must be 1-100000");
  private static final ApiException UNAVAILABLE = new ApiException(503, "unavailable", "redis is unavailable; retry later", 5);
  private static final int DEFAULT_LIMIT = 1000;

  private final KlaviyoSink sink;

  /** {@code sink} is {@code null} when the sink is disabled. */
  public KlaviyoAdmin(KlaviyoSink sink) {
    this.sink = sink;
  }

  public void mount(Router router) {
    router.post("/admin/sinks/klaviyo/replay").handler(this::replay);
  }

  private void replay(RoutingContext ctx) {
    JsonAnswers.answer(ctx, () -> {
      if (sink == null) {
        throw DISABLED;
      }
      return RequestParams.limit(ctx.queryParams().get("limit"), DEFAULT_LIMIT, 100_000, BAD_LIMIT);
    }, limit -> sink.replayDeadLetters(limit).compose(n -> sink.deadLetterCount().map(left -> new JsonObject().put("replayed", n)
      .put("dead_letters", left))), UNAVAILABLE);
  }
}
