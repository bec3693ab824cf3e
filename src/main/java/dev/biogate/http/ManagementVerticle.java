package dev.biogate.http;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * The management listener ({@code 127.0.0.1:9090} by default, like Kong's admin listener): {@code /metrics},
 * {@code /admin/*} and {@code /health*}, with the client listener's framing rules, edge headers and JSON errors.
 * Operators reach it on a private address; nothing on it is served on the client port.
 */
public final class ManagementVerticle extends VerticleBase {

  private final String host;
  private final int port;
  private final Supplier<Router> routes;
  private final EdgeHeaders edge;
  private final IntConsumer boundPort;
  private HttpServer server;
  private dev.biogate.config.TlsOptions tls;
  private AccessLog accessLog;
  private ConnectionLimits connections;

  private long headerTimeoutMs = GatewayVerticle.DEFAULT_HEADER_MS;
  private long bodyTimeoutMs = GatewayVerticle.DEFAULT_BODY_MS;
  private long lingerMs = dev.biogate.config.HttpOptions.DEFAULT_CLOSE_LINGER_MS;

  public ManagementVerticle(String host, int port, Supplier<Router> routes, EdgeHeaders edge, IntConsumer boundPort) {
    this.host = host;
    this.port = port;
    this.routes = routes;
    this.edge = edge;
    this.boundPort = boundPort;
  }

  /** Serve HTTPS with the client listener's PEM files (none: plain HTTP). */
  public ManagementVerticle tls(dev.biogate.config.TlsOptions tls) {
    this.tls = tls;
    return this;
  }

  /** Log a sample of requests ({@code null}: no access log). */
  public ManagementVerticle accessLog(AccessLog accessLog) {
    this.accessLog = accessLog;
    return this;
  }

  /** The request head and body deadlines ({@code http.requestHeaderTimeoutMs}, {@code requestBodyTimeoutMs}). */
  public ManagementVerticle requestDeadlines(long headerMs, long bodyMs) {
    this.headerTimeoutMs = headerMs;
    this.bodyTimeoutMs = bodyMs;
    return this;
  }

  /** How long a connection closing after an answer waits at most for the client's close ({@code http.closeLingerMs}). */
  public ManagementVerticle closeLinger(long ms) {
    this.lingerMs = ms;
    return this;
  }

  /** The listener's connection ceiling ({@code null}: none). */
  public ManagementVerticle connectionLimits(ConnectionLimits connections) {
    this.connections = connections;
    return this;
  }

  @Override
  public Future<?> start() {
    Router router = routes.get();
    HttpServerOptions options = ServerTls.apply(new HttpServerOptions().setHost(host).setPort(port).setCompressionSupported(false)
      .setHttp2ClearTextEnabled(false).setMaxInitialLineLength(4096).setMaxHeaderSize(16384).setIdleTimeout(120), tls);
    server = vertx.createHttpServer(options);
    return server
      .requestHandler(req -> {
        RequestTrace.begin(req);
        if (accessLog != null) {
          accessLog.begin(req);
        }
        if (!edge.apply(req) && !Methods.oddTarget(req) && !Listeners.healthAfterItsBody(req, req.path(), router::handle)) {
          router.handle(req);
        }
      })
      .invalidRequestHandler(GatewayVerticle::invalid)
      .connectionHandler(conn -> {
        StrictHttpDecoder decoder = StrictHttpDecoder.install(conn, options, headerTimeoutMs, bodyTimeoutMs, lingerMs);
        if (connections != null) {
          connections.admit(conn, decoder);
        }
      })
      .listen()
      .onSuccess(s -> {
        if (options.isSsl() && connections != null) {
          TlsAdmission.install(s, connections);
        }
        boundPort.accept(s.actualPort());
      });
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
