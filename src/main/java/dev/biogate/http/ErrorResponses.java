package dev.biogate.http;

import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * The single place failures become HTTP answers. Every error is JSON {@code {"error","message"}}; an unexpected
 * exception becomes a plain 500 without internals, logged once with its stack.
 */
public final class ErrorResponses {

  private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);

  private ErrorResponses() {
  }

  public static void send(HttpServerResponse resp, Throwable failure) {
    if (resp.headWritten()) {
      resp.reset();
      return;
    }
    ApiException e = asApi(failure);
    resp.setStatusCode(e.status());
    resp.headers().set(HttpHeaders.CONTENT_TYPE, "application/json");
    resp.headers().set(HttpHeaders.CACHE_CONTROL, "no-store");
    if (e.retryAfterSeconds() > 0) {
      resp.headers().set(HttpHeaders.RETRY_AFTER, Long.toString(e.retryAfterSeconds()));
    }
    String policy = e.rateLimitPolicy();
    if (policy != null) {
      resp.headers().add(InboundLimiter.RATELIMIT_POLICY, policy)
        .add(InboundLimiter.RATELIMIT, policy.substring(0, policy.indexOf(';')) + ";r=0;t=" + e.retryAfterSeconds());
    }
    resp.end(body(e.code(), e.getMessage()));
  }

  /**
   * An exception thrown while handling a request outside the router (whose failure handler answers those): answered
   * 500 like the router's, logged once with its stack, so the client is never left waiting for the idle timeout.
   */
  public static void unexpected(HttpServerResponse resp, RuntimeException failure) {
    if (resp.ended() || resp.closed()) {
      LOG.error("unexpected failure while handling a request (already answered)", failure);
      return;
    }
    send(resp, failure);
  }

  public static String body(String code, String message) {
    return new JsonObject().put("error", code).put("message", message).encode();
  }

  static ApiException asApi(Throwable failure) {
    if (failure instanceof ApiException) {
      return (ApiException) failure;
    }
    LOG.error("unexpected failure while handling a request", failure);
    return new ApiException(500, "internal_error", "the gateway failed to handle this request");
  }

  /** Router failure handler: status-only failures (400 from body parsing, 413, ...) become JSON too. */
  public static void handle(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure instanceof HttpClosedException || failure instanceof IOException || ctx.response().closed()) {
      // The client went away (or the decoder already answered and closed): nobody to answer, nothing unexpected. A
      // reset arrives as the connection's I/O exception (a read failed), before the response is marked closed.
      LOG.debug("request closed before it was answered: {}", String.valueOf(failure));
      return;
    }
    if (failure == null) {
      int status = ctx.statusCode() <= 0 ? 500 : ctx.statusCode();
      failure = new ApiException(status, codeFor(status), messageFor(status));
    }
    send(ctx.response(), failure);
  }

  static String codeFor(int status) {
    switch (status) {
      case 400: return "bad_request";
      case 401: return "unauthorized";
      case 403: return "forbidden";
      case 404: return "not_found";
      case 405: return "method_not_allowed";
      case 413: return "payload_too_large";
      case 415: return "unsupported_media_type";
      case 417: return "expectation_failed";
      case 429: return "too_many_requests";
      case 503: return "unavailable";
      default: return status >= 500 ? "internal_error" : "error";
    }
  }

  static String messageFor(int status) {
    switch (status) {
      case 400: return "the request is malformed";
      case 404: return "no such resource";
      case 405: return "method not allowed on this resource";
      case 413: return "request body too large";
      case 415: return "unsupported content type";
      case 417: return "only Expect: 100-continue is supported";
      default: return "request failed with status " + status;
    }
  }
}
