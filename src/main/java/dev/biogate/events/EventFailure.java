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

  /** The reason recorded for a failed attempt. */
  static String reasonOf(Throwable err) {
    if (err instanceof EventFailure) {
      return err.getMessage();
    }
    if (err instanceof java.util.concurrent.TimeoutException) {
      return "timeout";
    }
    return err.getClass().getSimpleName();
  }
}
