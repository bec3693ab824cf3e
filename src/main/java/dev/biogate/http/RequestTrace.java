package dev.biogate.http;

import io.vertx.core.Context;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.spi.VertxServiceProvider;
import io.vertx.core.spi.context.storage.ContextLocal;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The request id ({@code X-Request-Id}: the client's when it sent a sane one, else generated; always echoed) and W3C
 * trace context ({@code traceparent}) of the request being handled. They travel on the request's Vert.x context, so
 * the upstream calls made on its behalf carry them ({@link #propagate}) and its log lines name them, without
 * threading them through every signature.
 * <p>
 * Loaded as a {@link VertxServiceProvider} so its context slot is registered before the first Vert.x instance exists.
 */
public final class RequestTrace implements VertxServiceProvider {

  public static final String REQUEST_ID = "X-Request-Id";
  public static final String TRACEPARENT = "traceparent";
  private static final int MAX_ID_LENGTH = 128;
  private static final char[] HEX = "0123456789abcdef".toCharArray();
  private static final ContextLocal<Ids> LOCAL = ContextLocal.registerLocal(Ids.class);

  /** Ids of one request: {@code spanId} is this gateway's span, the parent of every call it makes upstream. */
  public record Ids(String requestId, String traceId, String spanId, String flags) {
    /** The {@code traceparent} to send upstream: same trace, this gateway's span as the parent. */
    public String traceparent() {
      return "00-" + traceId + "-" + spanId + "-" + flags;
    }
  }

  @Override
  public void init(VertxBootstrap bootstrap) {
    // registration happens in the static initialiser
  }

  /** Reads or creates the ids of {@code req}, echoes the request id and binds them to the current context. */
  public static Ids begin(HttpServerRequest req) {
    String id = req.getHeader(REQUEST_ID);
    boolean generated = !saneId(id);
    if (generated) {
      id = hex(ThreadLocalRandom.current().nextLong(), ThreadLocalRandom.current().nextLong());
    }
    String parent = req.getHeader(TRACEPARENT);
    String traceId;
    String flags;
    if (validTraceparent(parent)) {
      traceId = parent.substring(3, 35);
      flags = parent.substring(53, 55);
    } else {
      // A generated id is 32 lower-case hex digits already: only a client's id needs the check (2 % of a cached
      // read's CPU in a profile when every id was scanned).
      traceId = generated || id.length() == 32 && isLowerHex(id, 0, 32) ? id
        : hex(ThreadLocalRandom.current().nextLong(), ThreadLocalRandom.current().nextLong());
      flags = "00";
    }
    Ids ids = new Ids(id, traceId, hex(ThreadLocalRandom.current().nextLong() | 1L), flags);
    req.response().headers().set(REQUEST_ID, id);
    Context ctx = Vertx.currentContext();
    if (ctx != null) {
      LOCAL.put(ctx, ids);
    }
    return ids;
  }

  /** The ids of the request whose context is current, or {@code null} outside a request. */
  public static Ids current() {
    Context ctx = Vertx.currentContext();
    return ctx == null ? null : LOCAL.get(ctx);
  }

  /** Adds the current request's id and {@code traceparent} to an outgoing call's headers (no-op outside a request). */
  public static void propagate(MultiMap headers) {
    Ids ids = current();
    if (ids != null) {
      headers.set(REQUEST_ID, ids.requestId()).set(TRACEPARENT, ids.traceparent());
    }
  }

  /** Printable ASCII without spaces or separators that could forge a header or a log field, 1–128 characters. */
  static boolean saneId(String id) {
    if (id == null || id.isEmpty() || id.length() > MAX_ID_LENGTH) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':')) {
        return false;
      }
    }
    return true;
  }

  /** {@code 00-<32 hex trace id, not all zero>-<16 hex parent id, not all zero>-<2 hex flags>} (W3C Trace Context). */
  static boolean validTraceparent(String tp) {
    return tp != null && tp.length() == 55 && tp.startsWith("00-") && tp.charAt(35) == '-' && tp.charAt(52) == '-'
      && isLowerHex(tp, 3, 35) && isLowerHex(tp, 36, 52) && isLowerHex(tp, 53, 55)
      && !allZero(tp, 3, 35) && !allZero(tp, 36, 52);
  }

  private static boolean isLowerHex(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  private static boolean allZero(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      if (s.charAt(i) != '0') {
        return false;
      }
    }
    return true;
  }

  private static String hex(long... words) {
    char[] out = new char[words.length * 16];
    int p = 0;
    for (long w : words) {
      for (int shift = 60; shift >= 0; shift -= 4) {
        out[p++] = HEX[(int) (w >>> shift) & 0xf];
      }
    }
    return new String(out);
  }
}
