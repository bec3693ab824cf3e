package dev.biogate;

import dev.biogate.config.BiogateConfig;
import dev.biogate.config.ConfigException;
import dev.biogate.config.SandboxOptions;
import dev.biogate.http.ServerTls;
import dev.biogate.ops.BuildInfo;
import dev.biogate.ops.Metrics;
import dev.biogate.ops.Preflight;
import dev.biogate.redis.EmbeddedRedis;
import dev.biogate.sandbox.SandboxKlaviyoOptions;
import dev.biogate.sandbox.SandboxServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.BindException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Starts a whole process: the private Redis and the in-process sandbox when they are not configured (zero-config
 * run), then the gateway. Says in the log which defaults are in use, every endpoint it talks to and whether each
 * answered; a setting that cannot work (a port in use, an unwritable journal) stops start-up naming the setting.
 */
final class Launcher {

  private static final Logger LOG = LoggerFactory.getLogger(Launcher.class);
  /** How long start-up waits for Redis and the upstream to answer before saying they did not. */
  private static final long PROBE_MS = 3_000;

  private Launcher() {
  }

  static Vertx vertx() {
    return Vertx.builder().with(new VertxOptions().setPreferNativeTransport(true)).build();
  }

  static Vertx vertx(PrometheusMeterRegistry registry) {
    return Metrics.newVertx(new VertxOptions().setPreferNativeTransport(true), registry);
  }

  static void serve(BiogateConfig config) throws Exception {
    LOG.info("biogate {} starting", BuildInfo.version());
    config.warnings().forEach(w -> LOG.warn("risky setting: {}", w));
    checkJournal(config);
    EmbeddedRedis embedded = null;
    if (config.redis().embedded()) {
      embedded = EmbeddedRedis.start().stoppedByCaller();
      LOG.info("no REDIS_URL configured: using a private redis-server on 127.0.0.1:{} (data is not persisted)", embedded.port());
      config = config.withRedis(config.redis().withUrl(embedded.url()));
    }
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    Vertx vertx = config.http().requestMetrics() ? vertx(registry) : vertx();
    Gateway gateway;
    try {
      LOG.info("transport: {}", vertx.isNativeTransportEnabled() ? "native epoll" : "NIO");
      if (config.linktree().apiBase() == null) {
        SandboxOptions so = config.sandbox();
        SandboxServer sandbox = new SandboxServer(so, sandboxKlaviyo(config));
        await(vertx.deployVerticle(sandbox), config, "sandbox.port");
        String base = "http://" + so.host() + ":" + sandbox.actualPort();
        LOG.info("no LINKTREE_API_BASE configured: started the sandbox upstream at {} with demo profiles (demo, alice, bob)", base);
        config = config.withLinktree(config.linktree().withUpstream(base, so.token()));
        if (config.klaviyo().enabled() && !config.klaviyo().apiBaseConfigured()) {
          config = config.withKlaviyo(config.klaviyo().withApi(base, sandboxKlaviyo(config).key()));
          LOG.info("KLAVIYO_ENABLED without KLAVIYO_API_BASE: the Klaviyo sink delivers to the sandbox at {}/api/events/", base);
        }
      }
      gateway = await(Gateway.start(vertx, config, System::currentTimeMillis, registry), config, "http.port");
      reportEndpoints(vertx, gateway, config);
    } catch (Exception e) {
      vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
      if (embedded != null) {
        embedded.stop();
      }
      throw e;
    }
    long deadline = config.http().shutdownGraceMs() + 5_000;
    EmbeddedRedis redis = embedded;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("stopping: no new connections; finishing in-flight requests and events (deadline {} ms)", deadline);
      try {
        gateway.close().toCompletionStage().toCompletableFuture().get(deadline, TimeUnit.MILLISECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        // The private Redis goes last: the gateway's consumers and heartbeats use it until they have stopped.
        if (redis != null) {
          redis.stop();
        }
        LOG.info("stopped cleanly");
      } catch (Exception e) {
        LOG.warn("shutdown deadline passed; exiting with work left to other instances ({})", e.getClass().getSimpleName());
      }
    }, "biogate-shutdown"));
    // Logged once the stop hook is in place: whoever waits for this line may send SIGTERM right away.
    String scheme = ServerTls.scheme(config.tls());
    LOG.info("management (metrics, admin, health) on {}://{}:{}", scheme, config.http().managementHost(), gateway.managementPort());
    LOG.info("biogate listening on {}://{}:{} ({} event loops); try: curl {}://{}:{}/v1/profiles/demo", scheme,
      config.http().host(), gateway.port(), config.http().instances(), scheme, config.http().host(), gateway.port());
  }

  /** Waits for a start-up step; a bind failure becomes a configuration error naming the port's setting. */
  private static <T> T await(Future<T> step, BiogateConfig config, String portPath) throws Exception {
    try {
      return step.toCompletionStage().toCompletableFuture().get();
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      if (!(cause instanceof ConfigException) && addressInUse(cause)) {
        throw new ConfigException(config.settingName(portPath), "the port is already in use (" + cause.getMessage() + ")");
      }
      throw cause instanceof Exception ? (Exception) cause : e;
    }
  }

  static boolean addressInUse(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof BindException || String.valueOf(c.getMessage()).contains("Address already in use")) {
        return true;
      }
    }
    return false;
  }

  /** The click journal must be writable before the first click needs it (it is where clicks go while Redis is down). */
  static void checkJournal(BiogateConfig config) {
    Path file = Path.of(config.analytics().journalPath()).toAbsolutePath();
    String setting = config.settingName("analytics.journal.path");
    try {
      Files.createDirectories(file.getParent());
    } catch (IOException | RuntimeException e) {
      throw new ConfigException(setting, "cannot create the directory " + file.getParent() + " (" + e.getClass().getSimpleName() + ")");
    }
    boolean writable = Files.exists(file) ? Files.isWritable(file) && Files.isRegularFile(file) : Files.isWritable(file.getParent());
    if (!writable) {
      throw new ConfigException(setting, "cannot write " + file);
    }
  }

  /**
   * States every external endpoint in use and whether it answered: Redis (credentials left out) by PING, the
   * upstream by a TCP connection (no HTTP call: start-ups must not spend the upstream's per-minute budget).
   */
  private static void reportEndpoints(Vertx vertx, Gateway gateway, BiogateConfig config) {
    String redis = config.redis().type().name().toLowerCase() + " " + config.redis().toJson().getJsonArray("endpoints").encode();
    long t0 = System.nanoTime();
    try {
      gateway.redis().send(Request.cmd(Command.PING)).timeout(PROBE_MS, TimeUnit.MILLISECONDS)
        .toCompletionStage().toCompletableFuture().get();
      LOG.info("redis {}: answered PING in {} ms", redis, (System.nanoTime() - t0) / 1_000_000);
    } catch (Exception e) {
      LOG.warn("redis {}: did not answer ({}); serving degraded (cached copies, local budget share, click journal) until it does",
        redis, reason(e));
    }
    String base = config.linktree().apiBase();
    URI uri = URI.create(base);
    int port = uri.getPort() > 0 ? uri.getPort() : "https".equals(uri.getScheme()) ? 443 : 80;
    long t1 = System.nanoTime();
    try {
      vertx.createNetClient(new NetClientOptions().setConnectTimeout((int) PROBE_MS)).connect(port, uri.getHost())
        .compose(so -> so.close()).toCompletionStage().toCompletableFuture().get(PROBE_MS + 1000, TimeUnit.MILLISECONDS);
      LOG.info("upstream {}: accepted a connection in {} ms", base, (System.nanoTime() - t1) / 1_000_000);
    } catch (Exception e) {
      LOG.warn("upstream {}: did not accept a connection ({}); cached copies are served until it does", base, reason(e));
    }
  }

  private static String reason(Throwable e) {
    Throwable c = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
    String m = c.getMessage();
    return m == null || m.isBlank() ? c.getClass().getSimpleName() : m;
  }

  static SandboxKlaviyoOptions sandboxKlaviyo(BiogateConfig config) {
    JsonObject sandbox = config.source().getJsonObject("sandbox", new JsonObject());
    return SandboxKlaviyoOptions.fromJson(sandbox.getJsonObject("klaviyo", new JsonObject()));
  }

  /** Runs the deployment checks; returns the number of failures. */
  static int preflight(BiogateConfig config, String webhookUrl) {
    Vertx vertx = vertx();
    try {
      return new Preflight(vertx, config, System.out).run(webhookUrl);
    } finally {
      vertx.close();
    }
  }

  /** {@code webhooks list|register|delete|enable}: returns the exit status. */
  static int webhooks(BiogateConfig config, java.util.List<String> args, java.io.PrintStream out, java.io.PrintStream err) {
    Vertx vertx = vertx();
    try {
      return new dev.biogate.ops.WebhooksCommand(vertx, config, out, err).run(args);
    } finally {
      vertx.close();
    }
  }

  static void sandbox(BiogateConfig config) throws Exception {
    Vertx vertx = vertx();
    SandboxServer sandbox = new SandboxServer(config.sandbox(), sandboxKlaviyo(config));
    try {
      await(vertx.deployVerticle(sandbox), config, "sandbox.port");
    } catch (Exception e) {
      vertx.close();
      throw e;
    }
    LOG.info("sandbox upstream listening on http://{}:{} (token '{}', demo profiles demo, alice, bob)",
      config.sandbox().host(), sandbox.actualPort(), SandboxOptions.DEFAULT_TOKEN.equals(config.sandbox().token()) ? config.sandbox().token() : "****");
  }
}
