package dev.biogate.http;

import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.function.Function;
import java.util.function.Supplier;

/** How operator JSON endpoints answer: the object with {@code no-store}, API errors as they are, anything else as {@code otherwise}. */
public final class JsonAnswers {

  private JsonAnswers() {
  }

  public static <T> void answer(RoutingContext ctx, Supplier<T> input, Function<T, Future<JsonObject>> action,
                                ApiException otherwise) {
    answer(ctx, 0, input, action, otherwise);
  }

  /**
   * The same, answering {@code status} on success (e.g. 201 for a created resource); {@code 0} keeps the status the
   * response holds (200, or what the action set with a header that needs its result, e.g. 202 and a Location).
   */
  public static <T> void answer(RoutingContext ctx, int status, Supplier<T> input, Function<T, Future<JsonObject>> action,
                                ApiException otherwise) {
    Future<JsonObject> result;
    try {
      result = action.apply(input.get());
    } catch (ApiException e) {
      result = Future.failedFuture(e);
    }
    result.onComplete(ar -> {
      if (ar.failed()) {
        ErrorResponses.send(ctx.response(), ar.cause() instanceof ApiException ? ar.cause() : otherwise);
        return;
      }
      if (status != 0) {
        ctx.response().setStatusCode(status);
      }
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(ar.result().toBuffer());
    });
  }
}
