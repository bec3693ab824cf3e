package dev.biogate.http;

import dev.biogate.config.TlsOptions;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;

import java.nio.charset.StandardCharsets;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * One HTTP server per event loop. Profile reads ({@code GET|HEAD /v1/profiles/{username}}) are dispatched straight
 * to the {@link ProfileReads} handler without going through the router: the hot path pays for one prefix check and one
 * username scan. {@link DirectRoute}s (plain redirect paths) are offered the request next. Everything else is routed.
 */
public final class GatewayVerticle extends VerticleBase {

  static final String PROFILES = "/v1/profiles/";

  private final String host;
  private final int port;
  private final ProfileReads profiles;
  private final Supplier<Router> routes;
  private final InboundLimiter limiter;
  private final EdgeHeaders edge;
  private final IntConsumer boundPort;
  private HttpServer server;
  private long shutdownGraceMs = 10_000;
  static final long DEFAULT_HEADER_MS = dev.biogate.config.HttpOptions.DEFAULT_REQUEST_HEADER_TIMEOUT_MS;
  static final long DEFAULT_BODY_MS = dev.biogate.config.HttpOptions.DEFAULT_REQUEST_BODY_TIMEOUT_MS;
  private long headerTimeoutMs = DEFAULT_HEADER_MS;
  private long bodyTimeoutMs = DEFAULT_BODY_MS;
  private long lingerMs = dev.biogate.config.HttpOptions.DEFAULT_CLOSE_LINGER_MS;
  private TlsOptions tls;
  private AccessLog accessLog;
  private DirectRoute direct;
  private ConnectionLimits connections;

  public GatewayVerticle(String host, int port, ProfileReads profiles, Supplier<Router> routes, InboundLimiter limiter,
                         EdgeHeaders edge, IntConsumer boundPort) {
    this.edge = edge;
    this.limiter = limiter.enabled() ? limiter : null;
    this.host = host;
    this.port = port;
    this.profiles = profiles;
    this.routes = routes;
    this.boundPort = boundPort;
  }

  /** How long a stopping server waits for in-flight requests. */
  public GatewayVerticle shutdownGrace(long ms) {
    this.shutdownGraceMs = ms;
    return this;
  }

  /** Deadlines for a request's line and headers (from their first byte) and for its body (from the headers). */
  public GatewayVerticle requestDeadlines(long headerMs, long bodyMs) {
    this.headerTimeoutMs = headerMs;
    this.bodyTimeoutMs = bodyMs;
    return this;
  }

  /** How long a connection closing after an answer waits at most for the client's close ({@code http.closeLingerMs}). */
  public GatewayVerticle closeLinger(long ms) {
    this.lingerMs = ms;
    return this;
  }

  /** Log a sample of requests ({@code null}: no access log). */
  public GatewayVerticle accessLog(AccessLog accessLog) {
    this.accessLog = accessLog;
    return this;
  }

  /** A route offered each request before the router (after profile reads). */
  public GatewayVerticle direct(DirectRoute direct) {
    this.direct = direct;
    return this;
  }

  /** Ceilings on open connections, shared by every instance of this verticle ({@code null}: none). */
  public GatewayVerticle connectionLimits(ConnectionLimits connections) {
    this.connections = connections;
    return this;
  }

  /** Serve HTTPS with these PEM files (none: plain HTTP). */
  public GatewayVerticle tls(TlsOptions tls) {
    this.tls = tls;
    return this;
  }

  @Override
  public Future<?> start() {
    Router router = routes.get();
    HttpServerOptions options = ServerTls.apply(new HttpServerOptions()
      .setHost(host)
      .setPort(port)
      .setTcpNoDelay(true)
      .setTcpFastOpen(true)
      .setCompressionSupported(false)
      .setHttp2ClearTextEnabled(false)
      .setMaxInitialLineLength(4096)
      .setMaxHeaderSize(16384)
      .setIdleTimeout(120), tls);
    server = vertx.createHttpServer(options);
    Handler<HttpServerRequest> serve = req -> {
      if (accessLog != null) {
        accessLog.begin(req);
      }
      if (edge.apply(req)) {
        return;
      }
      String path = req.path();
      if (path == null) {
        path = "";
      }
      if (limiter != null && !Listeners.probe(path) && !limiter.admit(req)) {
        return;
      }
      HttpMethod m = req.method();
      if (m == HttpMethod.HEAD) {
        Methods.contentLengthOfHead(req.response());
      }
      if (path.startsWith(PROFILES) && path.indexOf('/', PROFILES.length()) < 0) {
        String username = Usernames.normalize(path, PROFILES.length(), path.length());
        boolean escaped = username == null && path.indexOf('%', PROFILES.length()) >= 0;
        if (m != HttpMethod.GET && m != HttpMethod.HEAD) {
          Methods.profileNotAllowed(req);
        } else if ((escaped || req.uri().length() != path.length()) && !Methods.validEscapes(req.uri())) {
          // Escapes (in the name, the query or an absolute-form target) are read as the router reads them.
          ErrorResponses.send(req.response(), Methods.MALFORMED_URI);
        } else if (escaped) {
          // "%64emo" is "demo", as the router decodes it for /links and /r: never a cache hit's path, so decoding here
          // costs nothing there.
          String decoded = Usernames.normalize(QueryStringDecoder.decodeComponent(path.substring(PROFILES.length()), StandardCharsets.UTF_8));
          if (decoded != null) {
            profiles.handle(req, decoded);
          } else {
            ErrorResponses.send(req.response(), Usernames.INVALID);
          }
        } else if (username != null) {
          profiles.handle(req, username);
        } else {
          ErrorResponses.send(req.response(), Usernames.INVALID);
        }
        return;
      }
      if (direct != null && direct.serve(req, path)) {
        return;
      }
      if (Methods.oddTarget(req) || Listeners.healthAfterItsBody(req, path, router::handle)) {
        return;
      }
      router.handle(req);
    };
    // What the router does not serve is answered 500 if it throws, as the router's failure handler answers the rest:
    // an exception thrown here used to leave the client waiting for the idle timeout.
    Handler<HttpServerRequest> front = req -> {
      RequestTrace.begin(req);
      try {
        serve.handle(req);
      } catch (RuntimeException e) {
        ErrorResponses.unexpected(req.response(), e);
      }
    };
    return server.requestHandler(front).invalidRequestHandler(GatewayVerticle::invalid)
      .connectionHandler(conn -> {
        StrictHttpDecoder decoder = StrictHttpDecoder.install(conn, options, headerTimeoutMs, bodyTimeoutMs, lingerMs);
        if (decoder != null) {
          long grace = shutdownGraceMs;
          conn.shutdownHandler(v -> decoder.stopping(grace));
        }
        if (connections != null) {
          connections.admit(conn, decoder);
        }
      })
      .listen().onSuccess(s -> {
        if (options.isSsl() && connections != null) {
          TlsAdmission.install(s, connections);
        }
        boundPort.accept(s.actualPort());
      });
  }

  /**
   * Requests the HTTP codec could not decode or {@link StrictHttpDecoder} refused still get a JSON error with the
   * security headers and {@code no-store}, with the status the failure implies; the connection is then closed.
   */
  static void invalid(HttpServerRequest req) {
    RequestTrace.begin(req); // its X-Request-Id, as every answer has
    Throwable cause = req.decoderResult().cause();
    int status = 400;
    String code = "bad_request";
    String message = "the request is not valid HTTP";
    if (cause instanceof io.netty.handler.codec.TooLongFrameException) {
      boolean line = String.valueOf(cause.getMessage()).contains("line");
      status = line ? 414 : 431;
      code = line ? "uri_too_long" : "headers_too_large";
      message = line ? "the request line is too long" : "the request headers are too large";
    } else if (cause instanceof StrictHttpDecoder.FramingException) {
      StrictHttpDecoder.FramingException f = (StrictHttpDecoder.FramingException) cause;
      status = f.status;
      code = f.code;
      message = f.getMessage();
    }
    io.vertx.core.MultiMap h = req.response().headers();
    EdgeHeaders.security(h);
    h.set(HttpHeaders.CONTENT_TYPE, "application/json").set(HttpHeaders.CACHE_CONTROL, "no-store").set(HttpHeaders.CONNECTION, "close");
    req.response().setStatusCode(status).end(ErrorResponses.body(code, message));
  }

  @Override
  public Future<?> stop() {
    // Stop accepting, let in-flight requests finish, then close what is left at the deadline.
    return server == null ? Future.succeededFuture() : server.shutdown(shutdownGraceMs, java.util.concurrent.TimeUnit.MILLISECONDS);
  }
}
