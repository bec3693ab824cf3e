package dev.biogate;

import dev.biogate.config.BiogateConfig;
import dev.biogate.config.ConfigException;
import dev.biogate.config.RedisConfig;
import dev.biogate.config.SandboxOptions;
import dev.biogate.http.ClosingListenerNoise;
import dev.biogate.http.ServerTls;
import dev.biogate.ops.UnhandledErrors;
import dev.biogate.ops.BuildInfo;
import dev.biogate.ops.Metrics;
import dev.biogate.ops.Preflight;
import dev.biogate.redis.EmbeddedRedis;
import dev.biogate.redis.RedisPersistence;
import dev.biogate.redis.ReplicaWatch;
import dev.biogate.sandbox.SandboxKlaviyoOptions;
import dev.biogate.sandbox.SandboxServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Starts a whole process: the private Redis and the in-process sandbox when they are not configured (zero-config
 * run), then the gateway. Says in the log which defaults are in use, every endpoint it talks to and whether each
 * answered; a setting that cannot work (a port in use, an unwritable journal) stops start-up naming the setting.
 */
final class Launcher {

  private static final Logger LOG = LoggerFactory.getLogger(Launcher.class);
  /**
   * How often the server's persistence is looked at: a Redis restarted without it while the gateway ran was told 113 s
   * later in a drill, with a minute's period (a look during the outage learns nothing).
   */
  private static final long PERSISTENCE_CHECK_MS = 10_000;
  /** How long start-up waits for Redis and the upstream to answer before saying they did not. */
  private static final long PROBE_MS = 3_000;

  private Launcher() {
  }

  static Vertx vertx() {
    Vertx vertx = Vertx.builder().with(options()).build();
    UnhandledErrors.install(vertx);
    return vertx;
  }

  static Vertx vertx(PrometheusMeterRegistry registry) {
    Vertx vertx = Metrics.newVertx(options(), registry);
    UnhandledErrors.install(vertx);
    return vertx;
  }

  /**
   * Native transport when there is one. No class-path resolution in Vert.x's file system: the gateway reads its
   * resources itself, and with it on Vert.x keeps a {@code vertx-cache-*} directory in the temporary directory, which a
   * killed process leaves behind.
   */
  private static VertxOptions options() {
    return new VertxOptions().setPreferNativeTransport(true)
      .setFileSystemOptions(new FileSystemOptions().setClassPathResolvingEnabled(false).setFileCachingEnabled(false));
  }

  static void serve(BiogateConfig config) throws Exception {
    LOG.info("biogate {} starting", BuildInfo.version());
    config.warnings().forEach(w -> LOG.warn("risky setting: {}", w));
    checkJournal(config);
    // The stop hook is in place before anything is started: a SIGTERM at any moment of start-up stops what has
    // started so far (it once left the private redis-server running, orphaned, when it came before the end).
    Stop stop = new Stop(config.http().stopDeadlineMs());
    try {
      Runtime.getRuntime().addShutdownHook(new Thread(stop, "biogate-shutdown"));
    } catch (IllegalStateException shuttingDown) {
      LOG.info("stop requested before start-up began: not starting");
      return;
    }
    try {
      start(config, stop);
    } finally {
      stop.startupDone();
    }
  }

  /** Starts everything, registering each part with {@code stop} as it starts. */
  private static void start(BiogateConfig config, Stop stop) throws Exception {
    EmbeddedRedis embedded = null;
    Vertx vertx = null;
    Gateway gateway;
    try {
      if (config.redis().embedded()) {
        // Main thread of the process: it ends with the JVM, so the server also gets the kernel's parent-death
        // signal when the JVM dies without running hooks (SIGKILL, ExitOnOutOfMemoryError).
        embedded = stop.register(EmbeddedRedis.unstarted().diesWithStartingThread().persistent());
        embedded.launch();
        embedded.keepRunning(); // started again if it dies, from its append-only file: nothing acknowledged is lost
        LOG.info("no REDIS_URL configured: using a private redis-server on 127.0.0.1:{} (its data lives while this"
          + " process runs: kept across a restart of that server, removed when the gateway stops)", embedded.port());
        config = config.withRedis(config.redis().withUrl(embedded.url()));
      }
      PrometheusMeterRegistry registry = Metrics.newRegistry();
      vertx = stop.register(config.http().requestMetrics() ? vertx(registry) : vertx());
      LOG.info("transport: {}", vertx.isNativeTransportEnabled() ? "native epoll" : "NIO");
      if (config.linktree().apiBase() == null) {
        SandboxOptions so = config.sandbox();
        SandboxServer sandbox = new SandboxServer(so, sandboxKlaviyo(config));
        await(vertx.deployVerticle(sandbox), config, "sandbox.port");
        String base = "http://" + so.host() + ":" + sandbox.actualPort();
        if (config.linktree().token() != null) {
          // A token says the operator meant Linktree: a deployment missing only the base served demo profiles, and
          // 404 for every real creator, from pods that looked healthy.
          LOG.warn("LINKTREE_API_TOKEN is set but LINKTREE_API_BASE is not: serving the sandbox upstream's demo profiles"
            + " at {}, not Linktree (set LINKTREE_API_BASE, e.g. https://api.linktr.ee/v1)", base);
        } else {
          LOG.info("no LINKTREE_API_BASE configured: started the sandbox upstream at {} with demo profiles (demo, alice, bob)", base);
        }
        // Its demo profiles are the creators this deployment serves: known names, not charged to a reader's miss quota.
        config = config.withLinktree(config.linktree().withUpstream(base, so.token()).withKnownNames(SandboxServer.DEMO_NAMES));
        if (config.klaviyo().enabled() && !config.klaviyo().apiBaseConfigured()) {
          config = config.withKlaviyo(config.klaviyo().withApi(base, sandboxKlaviyo(config).key()));
          LOG.info("KLAVIYO_ENABLED without KLAVIYO_API_BASE: the Klaviyo sink delivers to the sandbox at {}/api/events/", base);
        }
      }
      gateway = stop.register(await(Gateway.start(vertx, config, System::currentTimeMillis, registry), config, "http.port"));
      if (embedded == null) {
        // Looked at again and again: a server restarted without its persistence while the gateway runs is told too.
        RedisPersistence.Watch watch = RedisPersistence.watch(vertx, gateway.redis(), PERSISTENCE_CHECK_MS);
        io.micrometer.core.instrument.Gauge.builder("biogate.redis.keeps.nothing", watch,
            w -> w.keepsNothingNow() == null ? Double.NaN : w.keepsNothingNow() ? 1 : 0)
          .description("1 while the configured Redis keeps nothing across a restart (no AOF, no save points)").register(registry);
      }
      reportEndpoints(vertx, gateway, config);
    } catch (Exception e) {
      if (stop.stopping()) {
        // The stop hook is closing what had started; the failure is only the consequence of that.
        LOG.debug("start-up interrupted by the stop: {}", e.toString());
        return;
      }
      if (vertx != null) {
        vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
      }
      if (embedded != null) {
        embedded.close();
      }
      throw e;
    }
    // Logged once the gateway is registered with the stop hook: whoever waits for this line may send SIGTERM right away.
    String scheme = ServerTls.scheme(config.tls());
    LOG.info("management (metrics, admin, health) on {}://{}:{}", scheme, config.http().managementHost(), gateway.managementPort());
    LOG.info("biogate listening on {}://{}:{} ({} event loops); try: curl {}://{}:{}/v1/profiles/demo", scheme,
      config.http().host(), gateway.port(), config.http().instances(), scheme, config.http().host(), gateway.port());
  }

  /**
   * The process's one stop hook. What start-up has started is registered here as it starts; on SIGTERM the gateway
   * stops first (drain), then Vert.x, then the private Redis, which the gateway's consumers and heartbeats use until
   * they have stopped. Hooks run concurrently, hence one hook for all three. A stop that comes during start-up lets
   * start-up finish, for at most half the stop's deadline, and then stops as usual: closing Vert.x under a gateway
   * still starting made its consumers and Redis connections log WARN lines and Vert.x an ERROR. Past that wait it
   * stops whatever has started by then, and start-up registers nothing more.
   */
  private static final class Stop implements Runnable {

    private final long deadlineMs;
    private final CountDownLatch started = new CountDownLatch(1);
    private EmbeddedRedis redis;
    private Vertx vertx;
    private Gateway gateway;
    private boolean stopping;

    Stop(long deadlineMs) {
      this.deadlineMs = deadlineMs;
    }

    /** Start-up has ended, started or failed. */
    void startupDone() {
      started.countDown();
    }

    /** Registers what start-up has just created; fails once the stop has begun (start-up then goes no further). */
    synchronized <T> T register(T started) {
      if (stopping) {
        throw new IllegalStateException("stopping: start-up abandoned");
      }
      if (started instanceof EmbeddedRedis r) {
        redis = r;
      } else if (started instanceof Vertx v) {
        vertx = v;
      } else if (started instanceof Gateway g) {
        gateway = g;
      }
      return started;
    }

    synchronized boolean stopping() {
      return stopping;
    }

    @Override
    public void run() {
      // One deadline for the whole stop: the rest of start-up, the gateway's drain, then Vert.x, then the private
      // Redis share it.
      long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(deadlineMs);
      ClosingListenerNoise.stopping();
      boolean waited = started.getCount() > 0;
      if (waited) {
        LOG.info("stopping during start-up: letting it finish (at most {} ms), then stopping", deadlineMs / 2);
        try {
          started.await(deadlineMs / 2, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      EmbeddedRedis r;
      Vertx v;
      Gateway g;
      synchronized (this) {
        stopping = true;
        r = redis;
        v = vertx;
        g = gateway;
      }
      if (g == null) {
        LOG.info("stopping before start-up finished: closing what has started{}", r != null ? ", the private redis-server last" : "");
      } else {
        LOG.info("stopping: no new connections; finishing in-flight requests and events (deadline {} ms)", waited ? leftMs(end) : deadlineMs);
      }
      boolean clean = true;
      try {
        if (g != null) {
          g.close().toCompletionStage().toCompletableFuture().get(leftMs(end), TimeUnit.MILLISECONDS);
        }
        if (v != null) {
          v.close().toCompletionStage().toCompletableFuture().get(Math.min(5_000, leftMs(end)), TimeUnit.MILLISECONDS);
        }
      } catch (Exception e) {
        clean = false;
        LOG.warn("shutdown deadline passed; exiting with work left to other instances ({})", e.getClass().getSimpleName());
      }
      if (r != null && r.isActive() && leftMs(end) > 0) {
        warnOfUnfinished(r, (int) Math.min(1_000, leftMs(end))); // within the stop's deadline
      }
      // Even past the deadline: the private Redis must not outlive the process. Past it, it is killed at once (it
      // holds nothing that outlives the process); a frozen server would otherwise add its SIGTERM wait.
      if (r != null) {
        try {
          r.close(Math.min(5_000, leftMs(end)));
        } catch (Exception e) {
          clean = false;
          LOG.warn("could not stop the private redis-server ({})", e.toString());
        }
      }
      long refused = ClosingListenerNoise.refusedSinceStop();
      if (refused > 0) {
        LOG.info("{} connection{} arriving while the listeners closed {} refused", refused, refused == 1 ? "" : "s",
          refused == 1 ? "was" : "were");
      }
      if (clean) {
        LOG.info(g == null ? "stopped before start-up finished" : "stopped cleanly");
      }
    }
  }

  /**
   * Webhook events still queued (not handled yet) or not yet forwarded to a destination, over every events shard and
   * the outbound stream: handled entries are deleted from these streams, so what is left is what is unfinished.
   * Dead letters are not counted.
   */
  private static final String UNFINISHED = String.join("\n",
    "local n = 0",
    "for _, pattern in ipairs({'bg:events:*', 'bg:out:{out}'}) do",
    "  local cursor = '0'",
    "  repeat",
    "    local page = redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)",
    "    cursor = page[1]",
    "    for _, key in ipairs(page[2]) do",
    "      if string.sub(key, -5) ~= ':dead' and redis.call('TYPE', key).ok == 'stream' then",
    "        n = n + redis.call('XLEN', key)",
    "      end",
    "    end",
    "  until cursor == '0'",
    "end",
    "return n");

  /**
   * Says how many accepted webhook events go with the private Redis: a zero-config stop keeps nothing, and it used to
   * discard them without a word while saying "stopped cleanly".
   */
  private static void warnOfUnfinished(EmbeddedRedis r, int timeoutMs) {
    try {
      long n = r.evalInteger(UNFINISHED, Math.max(1, timeoutMs));
      if (n > 0) {
        LOG.warn("{} accepted webhook event{} not yet handled or forwarded go{} with the private redis-server: a zero-config"
          + " gateway keeps nothing after it stops (configure REDIS_URL to keep them for the next start or another"
          + " instance)", n, n == 1 ? "" : "s", n == 1 ? "es" : "");
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("could not count the unfinished events: {}", e.toString());
    }
  }

  /** Milliseconds left until {@code endNanos} ({@link System#nanoTime}), never negative. */
  private static long leftMs(long endNanos) {
    return Math.max(0, TimeUnit.NANOSECONDS.toMillis(endNanos - System.nanoTime()));
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
      String hostPath = cause instanceof ConfigException ? null : unresolved(cause, config);
      if (hostPath != null) {
        String host = hostPath.equals("http.host") ? config.http().host() : config.http().managementHost();
        throw new ConfigException(config.settingName(hostPath), "cannot listen on '" + host + "': the name does not resolve");
      }
      throw cause instanceof Exception ? (Exception) cause : e;
    }
  }

  /**
   * The listener host setting ({@code http.host} or {@code http.management.host}) whose name the resolver could not
   * resolve when binding, or null when the failure is something else.
   */
  private static String unresolved(Throwable t, BiogateConfig config) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      String m = String.valueOf(c.getMessage());
      if (c instanceof java.net.UnknownHostException || m.startsWith("Failed to resolve")) {
        return m.contains("'" + config.http().host() + "'") || !m.contains("'" + config.http().managementHost() + "'")
          ? "http.host" : "http.management.host";
      }
    }
    return null;
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
      long pingMs = (System.nanoTime() - t0) / 1_000_000;
      if (config.redis().type() == RedisConfig.Type.SENTINEL) {
        // Which server the Sentinels named: the address the master saw this connection arrive at.
        String master = gateway.redis().send(Request.cmd(Command.CLIENT).arg("INFO")).timeout(PROBE_MS, TimeUnit.MILLISECONDS)
          .map(r -> ReplicaWatch.localAddress(r.toString())).otherwise((String) null)
          .toCompletionStage().toCompletableFuture().get();
        LOG.info("redis {}: master '{}' at {} answered PING in {} ms", redis, config.redis().masterName(),
          master == null ? "(address not reported)" : master, pingMs);
      } else {
        LOG.info("redis {}: answered PING in {} ms", redis, pingMs);
      }
    } catch (Exception e) {
      LOG.warn("redis {}: did not answer ({}); serving degraded (cached copies, local budget share, click journal) until it does",
        redis, reason(e));
    }
    String base = config.linktree().apiBase();
    URI uri = URI.create(base);
    int port = uri.getPort() > 0 ? uri.getPort() : "https".equals(uri.getScheme()) ? 443 : 80;
    long t1 = System.nanoTime();
    try {
      io.vertx.core.net.NetClient probe = vertx.createNetClient(new NetClientOptions().setConnectTimeout((int) PROBE_MS));
      probe.connect(port, uri.getHost()).compose(so -> so.close()).eventually(probe::close)
        .toCompletionStage().toCompletableFuture().get(PROBE_MS + 1000, TimeUnit.MILLISECONDS);
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
