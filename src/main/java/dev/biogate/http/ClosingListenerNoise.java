package dev.biogate.http;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A connection accepted while a listener closes finds the listener's event loops gone: Netty closes it and logs
 * "Failed to register an accepted channel" at WARN with a stack (an {@code IllegalStateException} from Vert.x's
 * event-loop group); 3 of 4 stops under new connections in a drill. During a stop that is only a refused connection,
 * as any new connection then is: such lines are counted instead, and the stop says how many once
 * ({@link #refusedSinceStop()}). Outside a stop the line is written as it is. Installed by {@code logback.xml}.
 */
public final class ClosingListenerNoise extends TurboFilter {

  static final String NETTY_LOGGER = "io.netty.bootstrap.ServerBootstrap";
  private static final String REFUSED = "Failed to register an accepted channel";

  private static volatile boolean stopping;
  private static final AtomicLong refused = new AtomicLong();

  /** The process is stopping: from now on, connections refused by closing listeners are counted, not logged. */
  public static void stopping() {
    stopping = true;
  }

  /** Connections refused that way since {@link #stopping()}. */
  public static long refusedSinceStop() {
    return refused.get();
  }

  /** Back to not stopping, count cleared (tests). */
  static void reset() {
    stopping = false;
    refused.set(0);
  }

  @Override
  public FilterReply decide(Marker marker, ch.qos.logback.classic.Logger logger, Level level, String format,
                            Object[] params, Throwable t) {
    if (!stopping || level != Level.WARN || format == null || !format.startsWith(REFUSED)
      || !NETTY_LOGGER.equals(logger.getName())) {
      return FilterReply.NEUTRAL;
    }
    refused.incrementAndGet();
    return FilterReply.DENY;
  }
}
