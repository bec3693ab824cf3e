package dev.biogate.redis;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import io.vertx.core.VertxException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

import java.io.IOException;

/**
 * vertx-redis-client logs every socket error of a pooled connection at ERROR with its stack trace ("Unhandled
 * Error"): one per connection to a node that is killed or restarted, though nothing is unhandled (the connection fails
 * its pending commands to their callers, who log what it means for them, and leaves the pool). Such a socket error
 * becomes one throttled WARN line without a stack; anything else that logger reports is left as it is. Installed by
 * {@code logback.xml}.
 */
public final class RedisSocketErrors extends TurboFilter {

  static final String CLIENT_LOGGER = "io.vertx.redis.client.impl.RedisConnectionManager";
  private static final Logger LOG = LoggerFactory.getLogger(RedisSocketErrors.class);

  private final ThrottledLog throttled = new ThrottledLog();

  @Override
  public FilterReply decide(Marker marker, ch.qos.logback.classic.Logger logger, Level level, String format, Object[] params,
                            Throwable t) {
    if (level != Level.ERROR || !socketError(t) || !CLIENT_LOGGER.equals(logger.getName())) {
      return FilterReply.NEUTRAL;
    }
    throttled.warn(LOG, System.currentTimeMillis(), "more", "a redis connection failed ({}); its pending commands fail to"
      + " their callers and the pool replaces it", t.toString());
    return FilterReply.DENY;
  }

  /**
   * An I/O error of the socket, or the client's own "Connection was closed" (a connection closed under its pending
   * commands, which fail to their callers: seen at ERROR with a stack on clean starts against a healthy Cluster).
   */
  static boolean socketError(Throwable t) {
    return t instanceof IOException || t instanceof VertxException && "Connection was closed".equals(t.getMessage());
  }
}
