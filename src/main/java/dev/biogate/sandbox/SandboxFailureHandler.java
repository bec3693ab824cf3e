package dev.biogate.sandbox;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** The one place failures become HTTP responses: {@code {"error","message"}} JSON, never a stack trace. */
final class SandboxFailureHandler implements Handler<RoutingContext> {

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerResponse response = ctx.response();
    if (response.headWritten()) {
      // Too late for a proper answer; drop the connection rather than send a corrupt body.
      response.reset();
      return;
    }
    SandboxException e = classify(ctx);
    if (e.retryAfterSeconds > 0) {
      response.putHeader("Retry-After", Long.toString(e.retryAfterSeconds));
    }
    if (e.status == 401) {
      response.putHeader("WWW-Authenticate", "Bearer");
    }
    SandboxJson.send(response, e.status, new JsonObject().put("error", e.code).put("message", e.getMessage()));
  }

  private static SandboxException classify(RoutingContext ctx) {
    if (ctx.failure() instanceof SandboxException) {
      return (SandboxException) ctx.failure();
    }
    switch (ctx.statusCode()) {
      case 400: return SandboxException.badRequest("bad_request", "malformed request");
      case 404: return SandboxException.notFound("no such resource");
      case 405: return new SandboxException(405, "method_not_allowed", "method not allowed on this path");
      case 413: return new SandboxException(413, "payload_too_large", "request body too large");
      default: return new SandboxException(500, "internal", "internal sandbox error");
    }
  }
}
