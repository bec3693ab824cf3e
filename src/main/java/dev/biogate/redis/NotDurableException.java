package dev.biogate.redis;

import io.vertx.core.VertxException;

/**
 * A write that was to be acknowledged only once a replica held it was not: refused while its master could not make it
 * durable, or no replica acknowledged it in time ({@code WAIT}). Redis trouble, not the work's: a stream handler that
 * meets it holds its entry without spending an attempt ({@link RedisErrors#unavailable}). Stackless, expected.
 */
public class NotDurableException extends VertxException {

  public NotDurableException(String message) {
    super(message, true);
  }
}
