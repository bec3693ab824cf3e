package dev.biogate.events;

import io.vertx.core.VertxException;

/**
 * An expected handling failure (the alert sink answered 500, ...): stackless, and its message is a short reason
 * safe to store in the delivery history: never a payload, a URL or a secret.
 */
public final class EventFailure extends VertxException {

  public EventFailure(String reason) {
    super(reason, true);
  }
}
