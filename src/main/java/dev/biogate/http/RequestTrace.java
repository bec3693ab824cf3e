package dev.biogate.http;

import io.netty.util.AsciiString;
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
  private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final AsciiString REQUEST_ID_HEADER = AsciiString.cached(REQUEST_ID);
  private static final ContextLocal<Ids> LOCAL = ContextLocal.registerLocal(Ids.class);

  /**
   * Ids of one request: {@code spanId} is this gateway's span, the parent of every call it makes upstream. Generated
   * ids are kept as the random words they came from and written out as text only when something asks (a cached read
   * asks for none of them; its response header takes the request id as ASCII bytes).
   */
  public static final class Ids {
    private final CharSequence requestHeader;
    private String requestId;
    private String traceId;
    private final long traceHi;
    private final long traceLo;
    private final long span;
    private String spanId;
    private final String flags;

    Ids(CharSequence requestHeader, String traceId, long traceHi, long traceLo, long span, String flags) {
      this.requestHeader = requestHeader;
      this.traceId = traceId;
      this.traceHi = traceHi;
      this.traceLo = traceLo;
      this.span = span;
      this.flags = flags;
    }

    public String requestId() {
      if (requestId == null) {
        requestId = requestHeader.toString();
      }
      return requestId;
    }

    /** 32 lower-case hex digits: the caller's trace, or this request's own. */
    public String traceId() {
      if (traceId == null) {
        traceId = hex(traceHi, traceLo).toString();
      }
      return traceId;
    }

    public String spanId() {
      if (spanId == null) {
        spanId = hex(span).toString();
      }
      return spanId;
    }

    public String flags() {
      return flags;
    }

    /** The {@code traceparent} to send upstream: same trace, this gateway's span as the parent. */
    public String traceparent() {
      return "00-" + traceId() + "-" + spanId() + "-" + flags;
    }
  }

  @Override
  public void init(VertxBootstrap bootstrap) {
    // registration happens in the static initialiser
  }

  /** Reads or creates the ids of {@code req}, echoes the request id and binds them to the current context. */
  public static Ids begin(HttpServerRequest req) {
    String id = req.getHeader(REQUEST_ID);
    String parent = req.getHeader(TRACEPARENT);
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long span = random.nextLong() | 1L;
    long hi = random.nextLong();
    long lo = random.nextLong();
    boolean generated = !saneId(id);
    CharSequence header = generated ? hex(hi, lo) : id;
    Ids ids;
    if (validTraceparent(parent)) {
      ids = new Ids(header, parent.substring(3, 35), 0, 0, span, parent.substring(53, 55));
    } else if (!generated && id.length() == 32 && isLowerHex(id, 0, 32)) {
      // Only a client's id needs this check (2 % of a cached read's CPU in a profile when every id was scanned).
      ids = new Ids(header, id, 0, 0, span, "00");
    } else {
      // A new trace from the same words: a generated request id doubles as the trace id.
      ids = new Ids(header, null, hi, lo, span, "00");
    }
    req.response().headers().set(REQUEST_ID_HEADER, ids.requestHeader);
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

  /** The words as lower-case hex digits, as ASCII bytes (a header value written without another copy). */
  static AsciiString hex(long... words) {
    byte[] out = new byte[words.length * 16];
    int p = 0;
    for (long w : words) {
      for (int shift = 60; shift >= 0; shift -= 4) {
        out[p++] = HEX[(int) (w >>> shift) & 0xf];
      }
    }
    return new AsciiString(out, false);
  }
}
