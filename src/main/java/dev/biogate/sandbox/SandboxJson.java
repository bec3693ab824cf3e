package dev.biogate.sandbox;

import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** JSON in and out of the sandbox's HTTP exchanges. */
final class SandboxJson {

  private SandboxJson() {
  }

  static void send(HttpServerResponse response, int status, JsonObject body) {
    response.setStatusCode(status)
      .putHeader("Content-Type", "application/json")
      .putHeader("Cache-Control", "no-store")
      .end(body.toBuffer());
  }

  static void ok(RoutingContext ctx, JsonObject body) {
    send(ctx.response(), 200, body);
  }

  /** The request body as a JSON object, or a 400 {@link SandboxException}. */
  static JsonObject bodyObject(RoutingContext ctx) {
    String text = ctx.body() == null ? null : ctx.body().asString();
    if (text == null || text.isBlank()) {
      throw SandboxException.badRequest("invalid_json", "request body must be a JSON object");
    }
    try {
      return new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw SandboxException.badRequest("invalid_json", "request body must be a JSON object");
    }
  }
}
