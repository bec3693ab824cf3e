package dev.biogate.support;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * The lines one logger (and the loggers below it) writes from now until {@link #close()}, each rendered by the test's
 * own function, which returns {@code null} for an event the test does not keep. For tests that assert what is logged,
 * or that nothing is.
 */
public final class LogCapture implements AutoCloseable {

  private final Logger logger;
  private final AppenderBase<ILoggingEvent> appender;
  private final List<String> lines = new CopyOnWriteArrayList<>();

  private LogCapture(String name, Function<ILoggingEvent, String> line) {
    this.logger = (Logger) LoggerFactory.getLogger(name);
    this.appender = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        String kept = line.apply(e);
        if (kept != null) {
          lines.add(kept);
        }
      }
    };
    appender.start();
    logger.addAppender(appender);
  }

  /** Every logger's events. */
  public static LogCapture root(Function<ILoggingEvent, String> line) {
    return new LogCapture(org.slf4j.Logger.ROOT_LOGGER_NAME, line);
  }

  /** The events of {@code type}'s logger. */
  public static LogCapture of(Class<?> type, Function<ILoggingEvent, String> line) {
    return new LogCapture(type.getName(), line);
  }

  public static boolean warnOrAbove(ILoggingEvent e) {
    return e.getLevel().isGreaterOrEqual(Level.WARN);
  }

  /** The lines kept so far. */
  public List<String> lines() {
    return List.copyOf(lines);
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
  }
}
