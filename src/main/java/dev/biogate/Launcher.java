package dev.biogate;

import dev.biogate.config.BiogateConfig;
import dev.biogate.config.SandboxOptions;
import dev.biogate.ops.Metrics;
import dev.biogate.ops.Preflight;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.biogate.redis.EmbeddedRedis;
import dev.biogate.sandbox.SandboxKlaviyoOptions;
import dev.biogate.sandbox.SandboxServer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a whole process: the private Redis and the in-process sandbox when they are not configured (zero-config
 * run), then the gateway. Says in the log which defaults are in use.
 */
final class Launcher {

  private static final Logger LOG = LoggerFactory.getLogger(Launcher.class);

  private Launcher() {
  }

  static Vertx vertx() {
    return Vertx.builder().with(new VertxOptions().setPreferNativeTransport(true)).build();
  }

  static Vertx vertx(PrometheusMeterRegistry registry) {
    return Metrics.newVertx(new VertxOptions().setPreferNativeTransport(true), registry);
  }

  static void serve(BiogateConfig config) throws Exception {
    if (config.redis().embedded()) {
      EmbeddedRedis redis = EmbeddedRedis.start();
      LOG.info("no REDIS_URL configured: using a private redis-server on 127.0.0.1:{} (data is not persisted)", redis.port());
      config = config.withRedis(config.redis().withUrl(redis.url()));
    }
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    Vertx vertx = config.http().requestMetrics() ? vertx(registry) : vertx();
    LOG.info("transport: {}", vertx.isNativeTransportEnabled() ? "native epoll" : "NIO");
    if (config.linktree().apiBase() == null) {
      SandboxOptions so = config.sandbox();
      SandboxServer sandbox = new SandboxServer(so, sandboxKlaviyo(config));
      vertx.deployVerticle(sandbox).await();
      String base = "http://" + so.host() + ":" + sandbox.actualPort();
      LOG.info("no LINKTREE_API_BASE configured: started the sandbox upstream at {} with demo profiles (demo, alice, bob)", base);
      config = config.withLinktree(config.linktree().withUpstream(base, so.token()));
      if (config.klaviyo().enabled() && !config.klaviyo().apiBaseConfigured()) {
        config = config.withKlaviyo(config.klaviyo().withApi(base, sandboxKlaviyo(config).key()));
        LOG.info("KLAVIYO_ENABLED without KLAVIYO_API_BASE: the Klaviyo sink delivers to the sandbox at {}/api/events/", base);
      }
    }
    Gateway gateway = Gateway.start(vertx, config, System::currentTimeMillis, registry).await();
    LOG.info("biogate listening on http://{}:{} ({} event loops); try: curl http://{}:{}/v1/profiles/demo",
      config.http().host(), gateway.port(), config.http().instances(), config.http().host(), gateway.port());
    LOG.info("management (metrics, admin, health) on http://{}:{}", config.http().managementHost(), gateway.managementPort());
    long deadline = config.http().shutdownGraceMs() + 5_000;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("stopping: no new connections; finishing in-flight requests and events (deadline {} ms)", deadline);
      try {
        gateway.close().toCompletionStage().toCompletableFuture().get(deadline, java.util.concurrent.TimeUnit.MILLISECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS);
        LOG.info("stopped cleanly");
      } catch (Exception e) {
        LOG.warn("shutdown deadline passed; exiting with work left to other instances ({})", e.getClass().getSimpleName());
      }
    }, "biogate-shutdown"));
  }

  static SandboxKlaviyoOptions sandboxKlaviyo(BiogateConfig config) {
    JsonObject sandbox = config.source().getJsonObject("sandbox", new JsonObject());
    return SandboxKlaviyoOptions.fromJson(sandbox.getJsonObject("klaviyo", new JsonObject()));
  }

  /** Runs the deployment checks; returns the number of failures. */
  static int preflight(BiogateConfig config) {
    Vertx vertx = vertx();
    try {
      return new Preflight(vertx, config, System.out).run(System.getenv("LINKTREE_WEBHOOK_URL"));
    } finally {
      vertx.close();
    }
  }

  /** {@code webhooks list|register|delete|enable}: returns the exit status. */
  static int webhooks(BiogateConfig config, java.util.List<String> args) {
    Vertx vertx = vertx();
    try {
      return new dev.biogate.ops.WebhooksCommand(vertx, config, System.out, System.err).run(args);
    } finally {
      vertx.close();
    }
  }

  static void sandbox(BiogateConfig config) {
    Vertx vertx = vertx();
    SandboxServer sandbox = new SandboxServer(config.sandbox(), sandboxKlaviyo(config));
    vertx.deployVerticle(sandbox).await();
    LOG.info("sandbox upstream listening on http://{}:{} (token '{}', demo profiles demo, alice, bob)",
      config.sandbox().host(), sandbox.actualPort(), SandboxOptions.DEFAULT_TOKEN.equals(config.sandbox().token()) ? config.sandbox().token() : "****");
  }
}
