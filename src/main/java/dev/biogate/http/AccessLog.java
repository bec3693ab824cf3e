package dev.biogate.http;

import dev.biogate.config.AccessLogOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The optional access log (logger {@code biogate.access}): one line for a sampled share of requests, written when
 * the response ends. Off by default; when off it costs nothing, when on it costs one random draw per request. No
 * personal data: the client address loses its host part, the query string (cursors, time ranges) is dropped.
 */
public final class AccessLog {

  private static final Logger LOG = LoggerFactory.getLogger("biogate.access");

  private final double sampleRate;

  private AccessLog(double sampleRate) {
    this.sampleRate = sampleRate;
  }

  /** The access log these options ask for, or {@code null} when it is off. */
  public static AccessLog of(AccessLogOptions options) {
    return options == null || !options.enabled() || options.sampleRate() <= 0 ? null : new AccessLog(options.sampleRate());
  }

  /** Arranges for {@code req} to be logged when answered, if it is drawn. */
  public void begin(HttpServerRequest req) {
    if (sampleRate < 1 && ThreadLocalRandom.current().nextDouble() >= sampleRate) {
      return;
    }
    long start = System.nanoTime();
    // bodyEndHandler: the router takes endHandler for its own end handlers.
    req.response().bodyEndHandler(v -> LOG.info("{} {} {} {} ms {} bytes client {}", req.method().name(), req.path(),
      req.response().getStatusCode(), (System.nanoTime() - start) / 1_000_000, req.response().bytesWritten(),
      maskedClient(req.remoteAddress())));
  }

  /** {@code 203.0.x.x} / {@code 2001:db8:85a3::x}: enough to tell networks apart, not to identify a person. */
  static String maskedClient(SocketAddress address) {
    String ip = address == null ? null : address.hostAddress();
    if (ip == null) {
      return "-";
    }
    if (ip.indexOf(':') >= 0) {
      String[] groups = ip.split(":");
      return groups.length >= 3 ? groups[0] + ":" + groups[1] + ":" + groups[2] + "::x" : "x";
    }
    int second = ip.indexOf('.', ip.indexOf('.') + 1);
    return second < 0 ? "x" : ip.substring(0, second) + ".x.x";
  }
}
