package dev.biogate.http;

import io.vertx.core.http.HttpServerRequest;

/**
 * Answers {@code GET|HEAD /v1/profiles/{username}} for a username the front handler has already validated and
 * normalised. The HTTP layer dispatches to it without knowing how profiles are kept.
 */
@FunctionalInterface
public interface ProfileReads {

  void handle(HttpServerRequest req, String username);
}
