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
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(ar.result().toBuffer());
    });
  }
}
