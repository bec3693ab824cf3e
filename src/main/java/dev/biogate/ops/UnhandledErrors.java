package dev.biogate.ops;

import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What Vert.x does with an exception nothing handled (its default: an ERROR line with the stack), save for one known
 * race of Vert.x 5.0's HTTP client pool: a pooled-connection wait whose timer fires as its connection is granted fails
 * an already completed promise (vert-x3/vertx-web#2911). The request goes on with its connection and nothing is lost,
 * but the ERROR appeared under ordinary load in a drill; it is logged at DEBUG.
 */
public final class UnhandledErrors {

  private static final Logger LOG = LoggerFactory.getLogger(UnhandledErrors.class);

  private UnhandledErrors() {
  }

  public static void install(Vertx vertx) {
    vertx.exceptionHandler(UnhandledErrors::handle);
  }

  static void handle(Throwable t) {
    if (poolRace(t)) {
      LOG.debug("an HTTP client connection wait timed out as its connection was granted (a Vert.x 5.0 pool race; the request went on)");
    } else {
      LOG.error("Unhandled exception", t);
    }
  }

  /** The race exactly: "Promise already completed" thrown by the cancel of a pooled HTTP client connection wait. */
  static boolean poolRace(Throwable t) {
    if (!(t instanceof IllegalStateException) || !"Promise already completed".equals(t.getMessage())) {
      return false;
    }
    boolean request = false;
    boolean cancel = false;
    for (StackTraceElement frame : t.getStackTrace()) {
      request |= frame.getClassName().equals("io.vertx.core.http.impl.SharedHttpClientConnectionGroup$Request");
      cancel |= frame.getClassName().equals("io.vertx.core.internal.pool.SimpleConnectionPool$Cancel");
    }
    return request && cancel;
  }
}
