package dev.biogate.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.http.impl.headers.HeadersMultiMap;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.impl.ConnectionBase;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The HTTP/1.1 request decoder of every gateway connection: Vert.x's own, made strict about framing (RFC 9112 §6,
 * §11.2). A request whose framing two parsers could read differently is refused before any handler sees it:
 * {@code Content-Length} together with {@code Transfer-Encoding}, more than one or a non-decimal
 * {@code Content-Length}, a transfer coding other than {@code chunked} (501), header names that are not tokens
 * (whitespace before the colon included), control characters (NUL, bare CR, ...) in values, protocol versions
 * other than HTTP/1.0 and 1.1, and an HTTP/1.1 request without exactly one {@code Host} that names a host (RFC 9112
 * §3.2; the router would fail such a request with a 500). Refusing puts the decoder in its bad-message state, which
 * discards everything after on the connection: the invalid-request handler answers and the connection closes, so a
 * smuggled second request is never read. A body the codec cannot decode (a chunk size that is not hexadecimal, or
 * too large) is answered here with a JSON 400 and the connection closed, where Vert.x would close it without a word.
 *
 * <p>It also bounds slow clients: the request line and headers must arrive within {@code headerTimeoutMs} of their
 * first byte, however slowly they trickle (the idle timeout restarts with every byte), and the body within
 * {@code bodyTimeoutMs} of the headers. Past either deadline the client gets a JSON {@code 408} and the connection
 * is closed. A new connection's first request must arrive within {@code headerTimeoutMs} of the connection: one that
 * sends nothing at all is closed then, without an answer (it used to be kept for the 120-s idle timeout). A request
 * answered before its body has arrived (refused on its head) has its connection closed after the answer.
 */
public final class StrictHttpDecoder extends VertxHttpRequestDecoder {

  /** How long before a stop's deadline unanswered requests are answered 503 (at most a quarter of the grace). */
  static final long STOP_MARGIN_MS = 250;
  private final long headerTimeoutMs;
  private final long bodyTimeoutMs;
  /** How long a closing connection, its sending side shut, waits at most for the client's close. */
  private final long lingerMs;
  private ChannelHandlerContext ctx;
  private FramingRules current;
  /**
   * The last {@code Host} value accepted on this connection: a client repeats it on every request, so its checks
   * (the character scan and the authority parse, 8 % of an event loop's time on the cached read) run once.
   */
  private String acceptedHost;
  private boolean inBody;
  /** Whether the body is chunked, and whether its last chunk was read: what follows is its trailer section. */
  private boolean chunked;
  private boolean inTrailer;
  /** Chunks of the body being read that were smaller than {@link #TINY_CHUNK_BYTES}. */
  private int tinyChunks;
  /** The request line is read and its headers are not complete yet. */
  private boolean inHead;
  /** Requests decoded on this connection, and answers written in full (interim 1xx answers are not counted). */
  private long requests;
  private long answers;
  /** An answer has begun (its head was written) and is not complete yet. */
  private boolean answering;
  /**
   * The {@code X-Request-Id} each unanswered request sent, by request number modulo its length: an answer this
   * decoder writes itself carries it, as the handlers' answers do. Made when a request first sends one.
   */
  private CharSequence[] requestIds;
  /** Nothing has arrived on this connection yet. */
  private boolean silent = true;
  /** Its answer sent and its sending side shut ({@link #closeAfter}), it waits for the client's close. */
  private boolean lingering;
  /** The connection is closing ({@link #closeAfter}): whatever arrives is discarded. */
  private boolean discarding;
  /** The answer being written closes the connection (its request's body had not arrived). */
  private boolean closing;
  /** The client closed its sending side: the connection closes once every request read is answered. */
  private boolean inputShut;
  /**
   * At most this many requests are decoded ahead of their answers; the bytes of the next ones wait undecoded, and the
   * socket is not read meanwhile. A client that pipelines requests and never reads the answers used to have every
   * request it had sent decoded and queued (about 600 bytes of heap for each 43-byte GET, up to 12 MiB a connection):
   * 30 such connections ran a 160 MiB heap out of memory. Now such a connection holds at most this many decoded
   * requests and one read of raw bytes (nginx, too, reads the next request only once it is ready for it).
   */
  static final int MAX_UNANSWERED = 16;
  /** Decoding waits for answers ({@link #MAX_UNANSWERED}); the socket is not read until it resumes. */
  private boolean stalled;
  private boolean resumeScheduled;
  /** A read was asked for while stalled: it is made when decoding resumes. */
  private boolean readWanted;
  /** The bytes still undecoded when the client closed its sending side while decoding waited. */
  private ByteBuf held;
  /**
   * Since when ({@code System.nanoTime()}) the connection has waited for its next request, or 0 while a request is
   * being read or answered. Written on the event loop, read by {@link ConnectionLimits} from any thread (through
   * {@link #IDLE_SINCE}): a stale read only picks a worse candidate, and {@link #closeIfIdle} checks again on the
   * event loop before closing.
   */
  private long idleSince;
  /** Release writes and acquire reads of {@link #idleSince}: no fence on the event loop's per-request writes. */
  private static final VarHandle IDLE_SINCE;
  /**
   * Since when ({@code System.nanoTime()}) the request being read has been arriving, its head and then its body, or 0
   * once it is read whole (or none is): a fresh connection's first request from its acceptance, a later one from its
   * first byte on a waiting connection, else from the first read that left it incomplete. Published like {@link #idleSince}, for {@link ConnectionLimits}: a request still arriving a
   * second later is a trickle or a stall, and may be closed for a newcomer. A request read whole in one read (a GET
   * in one packet) never sets it.
   */
  private long arrivingSince;
  private static final VarHandle ARRIVING_SINCE;

  static {
    try {
      ARRIVING_SINCE = MethodHandles.lookup().findVarHandle(StrictHttpDecoder.class, "arrivingSince", long.class);
      IDLE_SINCE = MethodHandles.lookup().findVarHandle(StrictHttpDecoder.class, "idleSince", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
  /**
   * When the current phase (headers, or body) must be complete, {@code System.nanoTime()} based; 0 when no request
   * is in progress. Moving it costs nothing: the one timer below checks it when it fires and re-arms itself for
   * what is left, so a request does not schedule and cancel timers of its own (two of each per GET before).
   */
  private long deadlineNanos;
  /** The connection's one pending check, if any, and when it fires. */
  private ScheduledFuture<?> timer;
  private long timerAtNanos;

  StrictHttpDecoder(HttpServerOptions options, long headerTimeoutMs, long bodyTimeoutMs, long lingerMs) {
    super(options);
    this.headerTimeoutMs = headerTimeoutMs;
    this.bodyTimeoutMs = bodyTimeoutMs;
    this.lingerMs = lingerMs;
  }

  /**
   * Replaces the decoder of a fresh HTTP/1.x connection (called from the server's connection handler, on the
   * connection's event loop); returns it, or {@code null} when the connection is not HTTP/1.x.
   */
  static StrictHttpDecoder install(HttpConnection conn, HttpServerOptions options, long headerTimeoutMs, long bodyTimeoutMs,
                                   long lingerMs) {
    if (conn instanceof ConnectionBase) {
      ChannelPipeline pipeline = ((ConnectionBase) conn).channel().pipeline();
      if (pipeline.get("httpDecoder") instanceof VertxHttpRequestDecoder && pipeline.get("httpEncoder") != null) {
        StrictHttpDecoder decoder = new StrictHttpDecoder(options, headerTimeoutMs, bodyTimeoutMs, lingerMs);
        if (pipeline.get(SslHandler.class) == null) {
          // A client that half-closes after its requests still reads their answers (see userEventTriggered); without
          // this, the read EOF closes the connection under requests still being answered.
          pipeline.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        }
        pipeline.replace("httpDecoder", "httpDecoder", decoder);
        pipeline.addAfter("httpEncoder", "answerWatch", decoder.new AnswerWatch());
        return decoder;
      }
    }
    return null;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    super.handlerAdded(ctx);
    this.ctx = ctx;
    // Its first request is arriving from now on, as its header deadline counts: a fresh connection is no idle one for
    // a newcomer to take (it was: under a flood of one-connection addresses, readers' fresh connections were closed
    // for others before they could send their request).
    long now = System.nanoTime();
    ARRIVING_SINCE.setRelease(this, now == 0 ? 1 : now);
    if (ctx.channel().isActive()) {
      deadline(ctx, headerTimeoutMs); // the first request's head must arrive in time, counted from the connection
    }
  }

  /**
   * Refuses this connection before any request: a 503 {@code too_many_connections} is written at once. When
   * {@code limits} lets it linger, the connection closes once the client has closed its side, or a second later:
   * closing at once makes the client's request, when it arrives after the close, draw a reset that can discard the
   * answer unread. Otherwise (a flood of refusals) it closes as soon as the answer is written.
   */
  void refuseConnection(ConnectionLimits limits) {
    boolean linger = limits.mayLinger();
    if (linger) {
      ctx.channel().closeFuture().addListener(f -> limits.lingered());
    }
    closeAfter(ctx.writeAndFlush(stamped(TOO_MANY_CONNECTIONS, null)), linger);
  }

  /**
   * The server is stopping and lets requests in flight finish within {@code graceMs}, then closes what is left. Just
   * before that deadline a request still unanswered on this connection is answered {@code 503 shutting_down} with
   * {@code Retry-After} (nothing of it was promised: a webhook retried after it is deduplicated as usual) and the
   * connection closed, rather than closed under the request with no answer at all.
   */
  void stopping(long graceMs) {
    ChannelHandlerContext c = ctx;
    if (c != null) {
      long at = graceMs - Math.min(STOP_MARGIN_MS, graceMs / 4);
      c.executor().schedule(this::answerUnfinished, Math.max(0, at), TimeUnit.MILLISECONDS);
    }
  }

  private void answerUnfinished() {
    if (discarding || !ctx.channel().isActive() || answers >= requests) {
      return;
    }
    // The oldest unanswered request is the one being handled (pipelined ones wait behind it): answered here unless its
    // answer has begun, in which case the connection only closes. Requests pipelined behind it get no answer.
    ByteBuf last = answering ? Unpooled.EMPTY_BUFFER : stamped(SHUTTING_DOWN, requestId(answers));
    closeAfter(ctx.writeAndFlush(last), inBody);
  }

  /**
   * Closes the connection once {@code written} is out, reading nothing more into requests. With {@code linger} it
   * first closes only its sending side and discards what still arrives, for at most {@code http.closeLingerMs} (a
   * second) or until the client closes: a client still sending (a body, a request) to a closed socket draws a reset,
   * which can discard the answer before the client reads it.
   */
  private void closeAfter(ChannelFuture written, boolean linger) {
    discarding = true;
    cancel();
    ChannelHandlerContext c = ctx;
    written.addListener(f -> {
      if (linger && !inputShut && f.isSuccess() && c.channel() instanceof DuplexChannel) {
        lingering = true;
        ((DuplexChannel) c.channel()).shutdownOutput();
        c.executor().schedule(() -> c.close(), lingerMs, TimeUnit.MILLISECONDS);
      } else {
        c.close();
      }
    });
  }

  /**
   * The request Vert.x answers when decoding fails before a request line was read whole (too long, an unknown
   * version): HTTP/1.1, so the answer's status line is HTTP/1.1 like every other (Netty's is HTTP/1.0).
   */
  @Override
  protected HttpMessage createInvalidMessage() {
    return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/bad-request", Unpooled.buffer(0));
  }

  /**
   * The codec takes any run of SP, HTAB, VT, FF or CR between the request line's parts (RFC 9112 §3 allows that
   * leniency); a parser in front that does not may read another target from the same bytes. One SP it is.
   */
  @Override
  protected String splitFirstWordInitialLine(byte[] line, int start, int length) {
    oneSpaceAfter(line, start + length);
    return super.splitFirstWordInitialLine(line, start, length);
  }

  @Override
  protected String splitSecondWordInitialLine(byte[] line, int start, int length) {
    oneSpaceAfter(line, start + length);
    return super.splitSecondWordInitialLine(line, start, length);
  }

  private static void oneSpaceAfter(byte[] line, int at) {
    if (at + 1 >= line.length || line[at] != ' ' || line[at + 1] <= ' ' || line[at + 1] == 0x7F) {
      throw new FramingException(400, "bad_request", "the request line is not method, target and HTTP version, one space apart");
    }
  }

  @Override
  protected HttpMessage createMessage(String[] initialLine) {
    String version = initialLine[2];
    if (version.length() == 8 && version.startsWith("HTTP/1.") && version.charAt(7) >= '2' && version.charAt(7) <= '9') {
      version = "HTTP/1.1"; // a later HTTP/1 minor version is read as the highest one served (RFC 9112 §2.3)
    }
    if (!"HTTP/1.1".equals(version) && !"HTTP/1.0".equals(version)) {
      throw version.startsWith("HTTP/") && version.length() == 8
        ? new FramingException(505, "http_version_not_supported", "only HTTP/1 is served (1.0, 1.1, and later 1.x read as 1.1)")
        : new FramingException(400, "bad_request", "the request line is not method, target and HTTP version");
    }
    if (!visibleAscii(initialLine[1])) {
      // Control bytes, raw non-ASCII or whitespace other than the separators: a parser in front may split or
      // decode the target otherwise (RFC 9112 §3.2: a target is ASCII, percent-encoded beyond that).
      throw new FramingException(400, "bad_request", "the request target has bytes a URI cannot hold (percent-encode them)");
    }
    String target = initialLine[1];
    if (target.indexOf('#') >= 0) {
      // A fragment is never sent (RFC 9112 §3.2: a target is path and query); routed, it was part of a path.
      throw new FramingException(400, "bad_request", "the request target has a fragment (#), which is never part of a request");
    }
    if (!target.startsWith("/") && !"*".equals(target) && !"CONNECT".equals(initialLine[0]) && !absoluteForm(target)) {
      throw new FramingException(400, "bad_request",
        "the request target is neither a path nor an http(s) URI whose authority names a host");
    }
    current = new FramingRules(this);
    inHead = true;
    return new DefaultHttpRequest("HTTP/1.1".equals(version) ? HttpVersion.HTTP_1_1 : HttpVersion.HTTP_1_0,
      HttpMethod.valueOf(initialLine[0]), initialLine[1], HeadersMultiMap.httpHeaders(current));
  }

  /**
   * A {@code Connection} header holding a list ({@code keep-alive, close}) is read as its options (RFC 9110 7.6.1):
   * Vert.x compares the whole value, so a {@code close} inside a list kept the connection open and unannounced, which
   * RFC 9112 9.6 forbids. The header is set to the option that decides: {@code close} if listed, else
   * {@code keep-alive} if listed (what an HTTP/1.0 client asks to stay open with).
   */
  private static void connectionOptions(HttpRequest request) {
    boolean close = false;
    boolean keepAlive = false;
    for (String line : request.headers().getAll(HttpHeaderNames.CONNECTION)) {
      for (String option : line.split(",")) {
        String o = option.trim();
        close |= o.equalsIgnoreCase("close");
        keepAlive |= o.equalsIgnoreCase("keep-alive");
      }
    }
    if (close) {
      request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (keepAlive) {
      request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
    if (discarding) {
      buffer.skipBytes(buffer.readableBytes());
      return;
    }
    if (!inBody && !inHead && requests - answers >= MAX_UNANSWERED && buffer.isReadable()) {
      // Consuming nothing ends the codec's decode loop: the bytes stay where they are until answers make room.
      stalled = true;
      ctx.channel().config().setAutoRead(false);
      return;
    }
    if (buffer.isReadable()) {
      silent = false;
      if (idleSince != 0) {
        IDLE_SINCE.setRelease(this, 0L);
        if (!inBody) {
          long now = System.nanoTime();
          ARRIVING_SINCE.setRelease(this, now == 0 ? 1 : now);
        }
      }
    }
    if (!inBody && deadlineNanos == 0 && buffer.isReadable()) {
      deadline(ctx, headerTimeoutMs);
    }
    if (!inBody && !inHead && leadingJunk(buffer)) {
      buffer.skipBytes(buffer.readableBytes());
      refuse(ctx, LEADING);
      return;
    }
    if ((!inBody || inTrailer) && folded(buffer)) {
      buffer.skipBytes(buffer.readableBytes());
      refuse(ctx, inTrailer ? FOLDED_TRAILER : FOLDED);
      return;
    }
    int before = out.size();
    int from = buffer.readerIndex();
    super.decode(ctx, buffer, out);
    if (chunked && !inTrailer && out.size() == before && lastChunkSize(buffer, from, buffer.readerIndex())) {
      // The codec reads one step per call and hands nothing on for the last-chunk line: the trailer section follows.
      inTrailer = true;
    }
    for (int i = before; i < out.size(); i++) {
      Object msg = out.get(i);
      if (msg instanceof HttpRequest) {
        if (current != null) {
          current.sealed = true; // later changes to the request's headers are the application's, not framing
          if (current.connectionList) {
            connectionOptions((HttpRequest) msg);
          }
        }
        if (current != null && (current.requestId != null || requestIds != null)) {
          if (requestIds == null) {
            requestIds = new CharSequence[MAX_UNANSWERED * 2];
          }
          requestIds[(int) (requests % requestIds.length)] = current.requestId;
        }
        requests++;
        inBody = true;
        inHead = false;
        chunked = current != null && current.transferEncoding; // its only coding accepted is chunked
        tinyChunks = 0;
        deadline(ctx, bodyTimeoutMs);
      }
      if (chunked && msg instanceof HttpContent content && !(msg instanceof HttpRequest)
        && content.content().readableBytes() < TINY_CHUNK_BYTES && ++tinyChunks > MAX_TINY_CHUNKS) {
        // Each chunk is a message through the codec, the connection and the route: a body of single bytes cost an
        // event loop about a hundred times the work per byte of a plain one.
        while (out.size() > i + 1) {
          ReferenceCountUtil.release(out.remove(out.size() - 1));
        }
        refuseBody(ctx, out, i, TINY_CHUNKS);
        return;
      }
      if (msg instanceof HttpContent && !(msg instanceof HttpRequest) && !((HttpContent) msg).decoderResult().isSuccess()) {
        // The codec gave up on the body and discards everything after it. Vert.x would close the connection without
        // a word (and log the codec's stack trace); answer first when nothing else is being answered on it.
        refuseBody(ctx, out, i, MALFORMED_BODY);
        return;
      }
      if (msg instanceof LastHttpContent last) {
        if (!trailersValid(last.trailingHeaders())) {
          // Trailer fields are held to the rules of header fields; nothing reads them, but a parser in front may.
          refuseBody(ctx, out, i, BAD_TRAILER);
          return;
        }
        deadlineNanos = 0;
        inBody = false;
        chunked = false;
        inTrailer = false;
        arrived();
      }
    }
    if (inBody && arrivingSince == 0) {
      // A body still to come: it has been arriving since now (a head on a waiting connection, since its first byte).
      long now = System.nanoTime();
      ARRIVING_SINCE.setRelease(this, now == 0 ? 1 : now);
    }
    if (!inBody && deadlineNanos == 0 && buffer.isReadable()) {
      deadline(ctx, headerTimeoutMs);
    }
  }

  /** The request being read has arrived whole (or is refused): it no longer holds a place a newcomer may take. */
  private void arrived() {
    if (arrivingSince != 0) {
      ARRIVING_SINCE.setRelease(this, 0L);
    }
  }

  /** Drops the body part at {@code i} (never handed on) and refuses its request with {@code answer}. */
  private void refuseBody(ChannelHandlerContext ctx, List<Object> out, int i, byte[] answer) {
    ReferenceCountUtil.release(out.remove(i));
    refuse(ctx, answer);
    inBody = false;
    inTrailer = false;
    arrived();
  }

  /**
   * Whether {@code [from, to)} is one chunk-size line of size 0 (the last chunk): hexadecimal zeros, then the end of
   * the line or an extension. The codec has already checked the line; this only tells it from the other lines.
   */
  private static boolean lastChunkSize(ByteBuf buffer, int from, int to) {
    if (to - from < 2 || buffer.getByte(to - 1) != '\n') {
      return false;
    }
    int i = from;
    while (i < to && buffer.getByte(i) == '0') {
      i++;
    }
    if (i == from) {
      return false;
    }
    byte next = buffer.getByte(i);
    return next == '\r' || next == '\n' || next == ';' || next == ' ' || next == '\t';
  }

  private static boolean trailersValid(HttpHeaders trailers) {
    if (trailers.isEmpty()) {
      return true;
    }
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = trailers.iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> field = it.next();
      if (FramingRules.fieldProblem(field.getKey(), field.getValue()) != null) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether an absolute-form target ({@code http://host:port/path}, RFC 9112 §3.2.2) is an http(s) URI whose
   * authority names a host as {@code Host} must: its authority takes the place of {@code Host}, so it is held to the
   * same rules (no user information, a port of at most 65535, a well-formed IP literal, not empty).
   */
  static boolean absoluteForm(String target) {
    int scheme = target.regionMatches(true, 0, "http://", 0, 7) ? 7 : target.regionMatches(true, 0, "https://", 0, 8) ? 8 : -1;
    if (scheme < 0) {
      return false;
    }
    int end = scheme;
    while (end < target.length() && "/?#".indexOf(target.charAt(end)) < 0) {
      end++;
    }
    String authority = target.substring(scheme, end);
    return !authority.isEmpty() && authority.charAt(0) != ':' && FramingRules.hostValue(authority);
  }

  private static boolean visibleAscii(String target) {
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c <= 0x20 || c >= 0x7F) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether a request line is preceded by a space or a bare CR. Only empty lines may come before it (RFC 9112 §2.2);
   * the codec skips any whitespace there, where a parser in front may take the space for part of the line or end a
   * line at the bare CR. Looks at the first bytes only: empty lines, then the first byte of the line.
   */
  private static boolean leadingJunk(ByteBuf buffer) {
    int to = buffer.writerIndex();
    for (int i = buffer.readerIndex(); i < to; i++) {
      byte b = buffer.getByte(i);
      if (b == '\n') {
        continue;
      }
      if (b == '\r') {
        if (i + 1 == to) {
          return false; // its LF may be on its way
        }
        if (buffer.getByte(i + 1) != '\n') {
          return true;
        }
        i++;
        continue;
      }
      return b == ' ';
    }
    return false;
  }

  /**
   * Whether the head in {@code buffer} has a folded line (obs-fold: a line starting with SP or HTAB). The codec would
   * join it to the header above (RFC 9112 §5.2 allows that), where a parser in front that does not sees a header of its
   * own, {@code Transfer-Encoding} say. The codec consumes whole lines only, so mid-head the buffer starts at a line's
   * start; the scan stops at the blank line that ends the head.
   */
  private boolean folded(ByteBuf buffer) {
    int to = buffer.writerIndex();
    boolean headerLine = inHead || inTrailer; // whether the line at i is a header line (or the blank line ending the head)
    for (int i = buffer.readerIndex(); i < to; ) {
      byte first = buffer.getByte(i);
      boolean blank = first == '\n' || (first == '\r' && i + 1 < to && buffer.getByte(i + 1) == '\n');
      if (headerLine) {
        if (first == ' ' || first == '\t') {
          return true;
        }
        if (blank) {
          return false; // the head ends here: what follows is a body or the next request
        }
      }
      int lf = buffer.indexOf(i, to, (byte) '\n');
      if (lf < 0) {
        return false;
      }
      // Blank lines before a request line are skipped by the codec; after a request line every line is a header's.
      headerLine |= !blank;
      i = lf + 1;
    }
    return false;
  }

  /** The current phase must end within {@code ms}; the pending check is moved only if it would come too late. */
  private void deadline(ChannelHandlerContext ctx, long ms) {
    long now = System.nanoTime();
    deadlineNanos = now + TimeUnit.MILLISECONDS.toNanos(ms);
    if (deadlineNanos == 0) {
      deadlineNanos = 1;
    }
    if (timer != null && timerAtNanos - deadlineNanos > 0) {
      timer.cancel(false);
      timer = null;
    }
    if (timer == null) {
      arm(ctx, deadlineNanos - now);
    }
  }

  private void arm(ChannelHandlerContext ctx, long delayNanos) {
    timerAtNanos = System.nanoTime() + delayNanos;
    timer = ctx.executor().schedule(() -> check(ctx), delayNanos, TimeUnit.NANOSECONDS);
  }

  /** The pending check: nothing to do between requests, re-armed while the phase has time left, else the 408. */
  private void check(ChannelHandlerContext ctx) {
    timer = null;
    if (deadlineNanos == 0 || !ctx.channel().isActive()) {
      return;
    }
    long left = deadlineNanos - System.nanoTime();
    if (left > 0) {
      arm(ctx, left);
      return;
    }
    deadlineNanos = 0;
    if (silent) {
      ctx.close(); // nothing was asked: nothing to answer
    } else {
      refuse(ctx, TIMEOUT);
    }
  }

  /**
   * Writes {@code answer} (complete raw bytes) for the current request (in its headers or its body) and closes the
   * connection, or only closes it when that request has been answered already (say 413 before its body: a second
   * answer would be garbage) or an earlier pipelined answer is still on its way (the raw bytes would overtake it).
   */
  private void refuse(ChannelHandlerContext ctx, byte[] answer) {
    long before = inBody ? requests - 1 : requests; // the current request is counted once its head is decoded
    // Either way the connection closes only once what was written before is out: Vert.x flushes the answers written
    // while it reads at the end of the read, and a plain close would drop them.
    // The refused request's head was read when it is in its body: then its id is known.
    ByteBuf last = answers == before && !answering
      ? stamped(answer, inBody ? requestId(before) : null) : Unpooled.EMPTY_BUFFER;
    closeAfter(ctx.writeAndFlush(last), false);
  }

  /**
   * Called once the headers are read: an HTTP/1.1 request must carry a Host (RFC 9112 §3.2). Throwing here is a
   * decoding failure like the others: the codec discards the rest and the invalid-request handler answers 400.
   */
  @Override
  protected boolean isContentAlwaysEmpty(HttpMessage msg) {
    if (msg instanceof HttpRequest && current != null && !current.host && msg.protocolVersion() == HttpVersion.HTTP_1_1) {
      throw new FramingException(400, "bad_request", "an HTTP/1.1 request needs a Host header");
    }
    return super.isContentAlwaysEmpty(msg);
  }

  private void idle() {
    long now = System.nanoTime();
    IDLE_SINCE.setRelease(this, now == 0 ? 1 : now);
  }

  /** When the connection started waiting for its next request ({@code System.nanoTime()}), or 0 if it is not. */
  long idleSince() {
    return (long) IDLE_SINCE.getAcquire(this);
  }

  /** Since when the request being read has been arriving ({@link #arrivingSince}), or 0 (from any thread). */
  long arrivingSince() {
    return (long) ARRIVING_SINCE.getAcquire(this);
  }

  /**
   * Answers 408 and closes the connection if the request that has been arriving since {@code since} (its head or its
   * body) is still not read whole (from any thread): room for a newcomer when the listener is full of connections
   * that trickle their heads or stall their bodies.
   */
  void closeIfSlowRequest(long since, Runnable missed) {
    closeIfArriving(since, TIMEOUT, missed);
  }

  /**
   * Answers 503 {@code too_many_connections} and closes the connection if the request that has been arriving since
   * {@code since} is still not read whole (from any thread): its address holds many of the listener's places, and a
   * client holding few needs one.
   */
  void closeIfRequestOfHeavyClient(long since, Runnable missed) {
    closeIfArriving(since, TOO_MANY_CONNECTIONS, missed);
  }

  /**
   * Runs {@code missed} (on the event loop) when the request was read whole meanwhile and the connection stays. A
   * request in its body has been handed on: its handler learns of the close as of any connection lost mid-body (and
   * gives back what it holds, such as its share of the webhook body budget).
   */
  private void closeIfArriving(long since, byte[] answer, Runnable missed) {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      missed.run();
      return;
    }
    c.executor().execute(() -> {
      if (arrivingSince == since && !discarding && (inBody || answers == requests && !answering)) {
        ARRIVING_SINCE.setRelease(this, 0L);
        deadlineNanos = 0;
        if (silent) {
          discarding = true; // nothing was asked: nothing to answer, as at the header deadline
          c.close();
          return;
        }
        refuse(c, answer);
      } else {
        missed.run();
      }
    });
  }

  /**
   * Closes the connection, without an answer, if it is still waiting for its next request (from any thread); else
   * runs {@code missed} on its event loop (a request began arriving meanwhile).
   */
  void closeIfIdle(Runnable missed) {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      missed.run();
      return;
    }
    c.executor().execute(() -> {
      if (idleSince != 0 && !answering && answers == requests && !inBody) {
        IDLE_SINCE.setRelease(this, 0L);
        discarding = true;
        c.close();
      } else {
        missed.run();
      }
    });
  }

  private void cancel() {
    deadlineNanos = 0;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
    cancel();
    super.handlerRemoved0(ctx);
  }

  /**
   * The client closed its sending side: the codec first decodes what is left, then the connection closes once every
   * request read is answered, now if it is. A request whose body is cut short can never be served: it closes now
   * (and gives back what it holds, such as its share of the webhook body budget).
   */
  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    super.userEventTriggered(ctx, evt);
    if (evt instanceof ChannelInputShutdownEvent && !inputShut) {
      inputShut = true;
      if (lingering) {
        // The client has closed too: nothing more can arrive to reset the answer, and the connection's place is
        // given back now (each used to be held for the whole linger after its client had gone).
        ctx.close();
      } else if (!discarding && (inBody || answers == requests && !answering)) {
        closeAfter(ctx.writeAndFlush(Unpooled.EMPTY_BUFFER), false);
      }
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancel();
    releaseHeld();
    super.channelInactive(ctx);
  }

  /** While decoding waits, a read that found nothing to decode asks for no further read (the codec's own habit). */
  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    if (stalled) {
      ctx.fireChannelReadComplete();
      return;
    }
    super.channelReadComplete(ctx);
  }

  /** The client closed its sending side while decoding waited: what it sent is kept, to be decoded as answers go out. */
  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (stalled && in.isReadable() && !discarding) {
      held = in.readRetainedSlice(in.readableBytes());
      return;
    }
    super.decodeLast(ctx, in, out);
  }

  /** An answer went out: decoding resumes once fewer than {@link #MAX_UNANSWERED} requests wait for theirs. */
  private void answered() {
    if (stalled && !resumeScheduled && requests - answers < MAX_UNANSWERED) {
      resumeScheduled = true;
      ctx.executor().execute(this::resume); // not inside the write that answered: Vert.x is still writing
    }
  }

  private void resume() {
    resumeScheduled = false;
    if (!stalled || ctx.isRemoved()) {
      return;
    }
    stalled = false;
    try {
      if (held != null) {
        decodeHeld();
      } else {
        channelRead(ctx, Unpooled.EMPTY_BUFFER); // decodes what waits in the codec's buffer, handing it on
      }
      if (!stalled) {
        ctx.channel().config().setAutoRead(true);
        if (readWanted) {
          readWanted = false;
          ctx.read();
        }
      }
      channelReadComplete(ctx); // Vert.x flushes the answers it wrote for what was just handed on
    } catch (Exception e) {
      ctx.fireExceptionCaught(e);
    }
  }

  private void decodeHeld() throws Exception {
    List<Object> out = new java.util.ArrayList<>(4);
    while (!stalled && !discarding && held.isReadable()) {
      int before = held.readableBytes();
      decode(ctx, held, out);
      for (Object msg : out) {
        ctx.fireChannelRead(msg);
      }
      boolean progressed = !out.isEmpty() || held.readableBytes() != before;
      out.clear();
      if (!progressed) {
        break;
      }
    }
    if (!stalled) {
      releaseHeld();
      if (!discarding && answers == requests && !answering) {
        closeAfter(ctx.writeAndFlush(Unpooled.EMPTY_BUFFER), false); // every request sent before the close is answered
      }
    }
  }

  private void releaseHeld() {
    if (held != null) {
      held.release();
      held = null;
    }
  }

  /** Sees each response leave Vert.x (before encoding) and notes when the current one is complete. */
  final class AnswerWatch extends ChannelOutboundHandlerAdapter {
    /** No socket read while decoding waits for answers (Vert.x asks for one as soon as its own queue is empty). */
    @Override
    public void read(ChannelHandlerContext ctx) throws Exception {
      if (stalled) {
        readWanted = true;
        return;
      }
      super.read(ctx);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
      // Same event loop as the decoder.
      if (msg instanceof HttpResponse && ((HttpResponse) msg).status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        super.write(ctx, msg, promise); // 100 Continue: the answer is still to come
        return;
      }
      if (msg instanceof HttpResponse) {
        answering = true;
        if (inBody && answers == requests - 1) {
          // Answered on its head while its body is still coming (refused: too large, busy, ...): the connection
          // closes after this answer instead of reading, for up to the body deadline, a body nobody will use. The
          // answer says so, or the client would send its next request on a connection that is closing.
          closing = true;
          ((HttpResponse) msg).headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
      }
      if (msg instanceof LastHttpContent) {
        answers++;
        answering = false;
        answered();
        if (answers == requests && !inBody && !closing) {
          idle();
        }
        if (closing) {
          // It lingers: the connection is admitted, so its place is counted until it closes.
          promise = promise.unvoid();
          closeAfter(promise, true);
        } else if (inputShut && answers == requests && !discarding && !stalled && held == null) {
          promise = promise.unvoid();
          closeAfter(promise, false); // the last answer the half-closed client is waiting for
        }
      }
      super.write(ctx, msg, promise);
    }
  }

  /** The answers this decoder writes itself, below the HTTP encoder: complete, and closing the connection. */
  private static final byte[] TIMEOUT = rawAnswer("408 Request Timeout", "", "request_timeout", "the request did not arrive in time");
  private static final byte[] LEADING = rawAnswer("400 Bad Request", "", "bad_request",
    "a space or a bare CR before the request line (only empty lines may precede it)");
  private static final byte[] FOLDED = rawAnswer("400 Bad Request", "", "bad_request",
    "folded header lines (obs-fold) are not accepted");
  private static final byte[] FOLDED_TRAILER = rawAnswer("400 Bad Request", "", "bad_request",
    "folded trailer lines (obs-fold) are not accepted");
  private static final byte[] BAD_TRAILER = rawAnswer("400 Bad Request", "", "bad_request",
    "a trailer field has a name outside the token set or a control character in its value");
  /** A chunk smaller than this is tiny; a body may hold at most {@link #MAX_TINY_CHUNKS} of them. */
  static final int TINY_CHUNK_BYTES = 64;
  static final int MAX_TINY_CHUNKS = 1_024;
  private static final byte[] TINY_CHUNKS = rawAnswer("400 Bad Request", "", "body_in_tiny_chunks",
    "the request body came in more than " + MAX_TINY_CHUNKS + " chunks of under " + TINY_CHUNK_BYTES + " bytes; send larger chunks");
  private static final byte[] MALFORMED_BODY = rawAnswer("400 Bad Request", "", "bad_request",
    "the request body is not valid chunked coding");
  private static final byte[] TOO_MANY_CONNECTIONS = rawAnswer("503 Service Unavailable", "Retry-After: 1\r\n",
    "too_many_connections", "this server holds as many connections as it can; retry shortly");

  private static final byte[] SHUTTING_DOWN = rawAnswer("503 Service Unavailable", "Retry-After: 1\r\n", "shutting_down",
    "this instance is stopping and could not finish the request in time; retry");

  private static final String ID_PLACEHOLDER = "00000000000000000000000000000000"; // a constant: set before the answers above
  /** An IMF-fixdate, as long as {@link HttpDate#now()} is (until the year 10000). A constant, like the id's. */
  private static final String DATE_PLACEHOLDER = "Thu, 01 Jan 1970 00:00:00 GMT";

  /**
   * A JSON error answer with the security headers and {@code no-store} that closes the connection, as raw bytes;
   * {@code extraHeaders} are whole header lines, each ending in CRLF. Its {@code X-Request-Id} and {@code Date} are
   * placeholders, filled for each answer sent ({@link #stamped}).
   */
  private static byte[] rawAnswer(String status, String extraHeaders, String code, String message) {
    byte[] body = ErrorResponses.body(code, message).getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 " + status + "\r\n" + RequestTrace.REQUEST_ID + ": " + ID_PLACEHOLDER
      + "\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
      + extraHeaders + EdgeHeaders.securityLines(DATE_PLACEHOLDER) + "Connection: close\r\nContent-Length: " + body.length + "\r\n\r\n";
    byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[h.length + body.length];
    System.arraycopy(h, 0, all, 0, h.length);
    System.arraycopy(body, 0, all, h.length, body.length);
    return all;
  }
  /** The {@code X-Request-Id} request number {@code n + 1} (decoded, not yet answered) sent, or {@code null}. */
  private CharSequence requestId(long n) {
    return requestIds == null ? null : requestIds[(int) (n % requestIds.length)];
  }

  /**
   * A copy of a raw answer dated now, carrying the request's id when it sent one the handlers would echo
   * ({@link RequestTrace#saneId}), else a fresh one, as every answer carries one. Dating each copy: the answers used
   * to carry the Date of the moment this class was loaded.
   */
  private static ByteBuf stamped(byte[] answer, CharSequence clientId) {
    int at = indexOf(answer, ID_PLACEHOLDER_BYTES);
    byte[] out;
    if (clientId != null && RequestTrace.saneId(clientId.toString())) {
      out = replaced(answer, at, ID_PLACEHOLDER.length(), clientId.toString().getBytes(StandardCharsets.ISO_8859_1));
    } else {
      out = answer.clone();
      ThreadLocalRandom random = ThreadLocalRandom.current();
      for (int i = 0; i < 32; i++) {
        out[at + i] = (byte) Character.forDigit(random.nextInt(16), 16);
      }
    }
    AsciiString date = HttpDate.now();
    int dateAt = indexOf(out, DATE_PLACEHOLDER_BYTES);
    if (date.length() == DATE_PLACEHOLDER.length()) {
      System.arraycopy(date.array(), date.arrayOffset(), out, dateAt, date.length());
    } else {
      out = replaced(out, dateAt, DATE_PLACEHOLDER.length(), date.toByteArray());
    }
    return Unpooled.wrappedBuffer(out);
  }

  private static final byte[] ID_PLACEHOLDER_BYTES = ID_PLACEHOLDER.getBytes(StandardCharsets.ISO_8859_1);
  private static final byte[] DATE_PLACEHOLDER_BYTES = DATE_PLACEHOLDER.getBytes(StandardCharsets.ISO_8859_1);

  /** {@code in} with its {@code length} bytes from {@code at} replaced by {@code with}. */
  private static byte[] replaced(byte[] in, int at, int length, byte[] with) {
    byte[] out = new byte[in.length - length + with.length];
    System.arraycopy(in, 0, out, 0, at);
    System.arraycopy(with, 0, out, at, with.length);
    System.arraycopy(in, at + length, out, at + with.length, in.length - at - length);
    return out;
  }

  private static int indexOf(byte[] in, byte[] what) {
    outer:
    for (int i = 0; i + what.length <= in.length; i++) {
      for (int k = 0; k < what.length; k++) {
        if (in[i + k] != what[k]) {
          continue outer;
        }
      }
      return i;
    }
    throw new IllegalStateException("no placeholder in a raw answer");
  }


  /**
   * Checks every header as the decoder adds it: names are RFC 9110 tokens, values have no control characters but
   * HTAB, and the framing headers appear at most once and never together.
   */
  static final class FramingRules implements BiConsumer<CharSequence, CharSequence> {

    private final StrictHttpDecoder connection;
    private boolean contentLength;
    private String firstLength;
    private boolean transferEncoding;
    boolean host;
    boolean sealed;
    /** A {@code Connection} line holds more than one option. */
    boolean connectionList;
    /** The request's first {@code X-Request-Id}, as sent. */
    CharSequence requestId;

    FramingRules(StrictHttpDecoder connection) {
      this.connection = connection;
    }

    @Override
    public void accept(CharSequence name, CharSequence value) {
      if (sealed) {
        return;
      }
      boolean isHost = equalsIgnoreCase(name, "host");
      if (isHost && !host && connection.acceptedHost != null && connection.acceptedHost.contentEquals(value)) {
        host = true; // the value this connection's previous request was accepted with
        return;
      }
      String problem = fieldProblem(name, value);
      if (problem != null) {
        throw new FramingException(400, "bad_request", problem);
      }
      if (isHost) {
        if (host) {
          throw new FramingException(400, "bad_request", "more than one Host header");
        }
        if (!hostValue(value)) {
          throw new FramingException(400, "bad_request", "the Host header does not name a host");
        }
        host = true;
        connection.acceptedHost = value.toString();
      } else if (equalsIgnoreCase(name, "content-length")) {
        if (contentLength && !transferEncoding && normalised(firstLength, value)) {
          return; // the codec rewriting the one Content-Length without its leading zeros (002 to 2), not a second one
        }
        if (contentLength || transferEncoding) {
          throw new FramingException(400, "bad_request", transferEncoding ? "Content-Length together with Transfer-Encoding"
            : "more than one Content-Length");
        }
        if (!length(value)) {
          throw digits(value) ? new FramingException(413, "payload_too_large", "the declared body is larger than any accepted")
            : new FramingException(400, "bad_request", "Content-Length is not a decimal number");
        }
        contentLength = true;
        firstLength = value.toString();
      } else if (equalsIgnoreCase(name, "transfer-encoding")) {
        if (transferEncoding || contentLength) {
          throw new FramingException(400, "bad_request", contentLength ? "Content-Length together with Transfer-Encoding"
            : "more than one Transfer-Encoding");
        }
        if (!equalsIgnoreCase(value, "chunked")) {
          throw new FramingException(501, "not_implemented", "the only transfer coding accepted is chunked");
        }
        transferEncoding = true;
      } else if (!connectionList && equalsIgnoreCase(name, "connection") && indexOf(value, ',') >= 0) {
        connectionList = true;
      } else if (requestId == null && name.length() == 12 && equalsIgnoreCase(name, "x-request-id")) {
        requestId = value.toString(); // kept past the decoding of this header block
      }
    }

    private static int indexOf(CharSequence s, char c) {
      for (int i = 0; i < s.length(); i++) {
        if (s.charAt(i) == c) {
          return i;
        }
      }
      return -1;
    }

    /**
     * RFC 3986 {@code host [":" port]} as far as its characters go: unreserved, sub-delims, {@code %} escapes, and
     * {@code :[]} for ports and IPv6 literals. No whitespace, {@code /}, {@code ?}, {@code #} or {@code @}. The
     * structure (a port of at most 65535, a closed IPv6 literal) is then checked by the parser Vert.x's router uses,
     * which otherwise fails on the request with a 500.
     */
    private static boolean hostValue(CharSequence v) {
      if (v.length() > 255) {
        return false;
      }
      boolean structured = false;
      for (int i = 0; i < v.length(); i++) {
        char c = v.charAt(i);
        boolean plain = c < 128 && HOST_PLAIN[c];
        if (!plain) {
          if ("%:[]".indexOf(c) < 0) {
            return false;
          }
          structured = true;
        }
      }
      // A port, an IPv6 literal or an escape: the structure is checked by the parser the router uses, which fails on
      // the request with a 500 otherwise (a port over 65535, an unclosed literal, a bad escape). A plain name is valid.
      // That parser takes any bracketed text, so a literal's content is checked here ([zz] is no address).
      if (!structured) {
        return true;
      }
      String text = v.toString();
      return HostAndPort.parseAuthority(text, -1) != null
        && (text.isEmpty() || text.charAt(0) != '[' || ipLiteral(text.substring(1, text.indexOf(']'))));
    }

    /**
     * The content of an RFC 3986 IP-literal (RFC 6874 zone included): an IPv6 address, with {@code %25} and a zone of
     * unreserved characters, or an IPvFuture ({@code v1.x}).
     */
    static boolean ipLiteral(String s) {
      if (s.length() > 1 && (s.charAt(0) == 'v' || s.charAt(0) == 'V')) {
        int dot = s.indexOf('.');
        if (dot < 2 || dot == s.length() - 1 || !hex(s, 1, dot)) {
          return false;
        }
        for (int i = dot + 1; i < s.length(); i++) {
          char c = s.charAt(i);
          if (c >= 128 || !(HOST_PLAIN[c] || c == ':')) {
            return false;
          }
        }
        return true;
      }
      int zone = s.indexOf('%');
      if (zone >= 0) {
        if (!s.startsWith("%25", zone) || zone + 3 == s.length()) {
          return false;
        }
        for (int i = zone + 3; i < s.length(); i++) {
          char c = s.charAt(i);
          if (c >= 128 || !UNRESERVED[c]) {
            return false;
          }
        }
        s = s.substring(0, zone);
      }
      int gap = s.indexOf("::");
      if (gap >= 0 && s.indexOf("::", gap + 1) >= 0) {
        return false;
      }
      if (gap < 0) {
        return groups(s, true) == 8;
      }
      int before = groups(s.substring(0, gap), false);
      int after = groups(s.substring(gap + 2), true);
      return before >= 0 && after >= 0 && before + after <= 7;
    }

    /**
     * How many 16-bit groups {@code part} holds ({@code a:b:c}, empty for none; an IPv4 address at its end, where
     * {@code last}, counts two), or a negative number when it is not such a list.
     */
    private static int groups(String part, boolean last) {
      if (part.isEmpty()) {
        return 0;
      }
      String[] pieces = part.split(":", -1);
      int n = 0;
      for (int i = 0; i < pieces.length; i++) {
        String p = pieces[i];
        if (last && i == pieces.length - 1 && p.indexOf('.') >= 0) {
          if (!ipv4(p)) {
            return -1;
          }
          n += 2;
        } else if (p.isEmpty() || p.length() > 4 || !hex(p, 0, p.length())) {
          return -1;
        } else {
          n++;
        }
      }
      return n;
    }

    private static boolean ipv4(String s) {
      String[] octets = s.split("\\.", -1);
      if (octets.length != 4) {
        return false;
      }
      for (String o : octets) {
        if (o.isEmpty() || o.length() > 3 || (o.length() > 1 && o.charAt(0) == '0') || !decimal(o) || Integer.parseInt(o) > 255) {
          return false;
        }
      }
      return true;
    }

    private static boolean hex(String s, int from, int to) {
      for (int i = from; i < to; i++) {
        if (Character.digit(s.charAt(i), 16) < 0) {
          return false;
        }
      }
      return to > from;
    }

    /** {@code rewritten} is {@code first} with its leading zeros removed (and differs from it). */
    private static boolean normalised(String first, CharSequence rewritten) {
      int z = 0;
      while (z < first.length() - 1 && first.charAt(z) == '0') {
        z++;
      }
      return z > 0 && first.length() - z == rewritten.length() && first.regionMatches(z, rewritten.toString(), 0, rewritten.length());
    }

    /** Digits only, however many (a length too long to read is a body too large, not a malformed header). */
    private static boolean digits(CharSequence v) {
      for (int i = 0; i < v.length(); i++) {
        if (v.charAt(i) < '0' || v.charAt(i) > '9') {
          return false;
        }
      }
      return v.length() > 0;
    }

    /** 1*DIGIT within 18 digits: any such length is read without overflow. */
    private static boolean decimal(CharSequence v) {
      return v.length() <= 18 && digits(v);
    }

    /**
     * A Content-Length read without overflow: 1*DIGIT (RFC 9110 8.6), leading zeros as many as sent, at most 18 digits
     * after them. Counting every digit refused {@code 0000000000000000002} as a body larger than any accepted.
     */
    private static boolean length(CharSequence v) {
      int zeros = 0;
      while (zeros < v.length() - 1 && v.charAt(zeros) == '0') {
        zeros++;
      }
      return v.length() - zeros <= 18 && digits(v);
    }

    private static boolean equalsIgnoreCase(CharSequence a, String b) {
      if (a.length() != b.length()) {
        return false;
      }
      for (int i = 0; i < b.length(); i++) {
        if (Character.toLowerCase(a.charAt(i)) != b.charAt(i)) {
          return false;
        }
      }
      return true;
    }

    /**
     * What is wrong with a header or trailer field, or {@code null}: its name must be a non-empty RFC 9110 token and
     * its value free of control characters other than HTAB.
     */
    static String fieldProblem(CharSequence name, CharSequence value) {
      if (name.length() == 0) {
        return "a header has an empty name";
      }
      for (int i = 0; i < name.length(); i++) {
        if (!tchar(name.charAt(i))) {
          return "a header name holds a character outside the token set";
        }
      }
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
          return "a header value holds a control character";
        }
      }
      return null;
    }

    /** RFC 9110 §5.6.2 tchar. */
    private static boolean tchar(char c) {
      return c < 128 && TCHAR[c];
    }

    private static final boolean[] TCHAR = table("!#$%&'*+-.^_`|~");
    /** RFC 3986 unreserved and sub-delims: what a host name is made of. */
    private static final boolean[] HOST_PLAIN = table("-._~!$&'()*+,;=");
    private static final boolean[] UNRESERVED = table("-._~");

    /** ASCII letters, digits and {@code others}. */
    private static boolean[] table(String others) {
      boolean[] t = new boolean[128];
      for (char c = 0; c < 128; c++) {
        t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || others.indexOf(c) >= 0;
      }
      return t;
    }
  }

  /** A framing refusal: the status and error code the invalid-request handler answers with. */
  static final class FramingException extends IllegalArgumentException {

    final int status;
    final String code;

    FramingException(int status, String code, String message) {
      super(message, null);
      this.status = status;
      this.code = code;
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this; // an expected refusal, possibly many per second: no stack
    }
  }
}
