package dev.biogate.http;

import io.vertx.core.http.HttpServerRequest;

/**
 * A route the HTTP verticle serves before its router, like profile reads: for paths the router would hand to the
 * same handler unchanged (no escapes to decode, nothing to normalise). Anything else it declines and the router
 * answers, so both ways give the same answer.
 */
@FunctionalInterface
public interface DirectRoute {

  /** True when this route took the request (and will answer it); {@code path} is the request's raw path. */
  boolean serve(HttpServerRequest req, String path);
}
