package dev.biogate;

import dev.biogate.analytics.AnalyticsModule;
import dev.biogate.config.BiogateConfig;
import dev.biogate.config.LinktreeOptions;
import dev.biogate.config.SecretFiles;
import dev.biogate.http.AccessLog;
import dev.biogate.http.ApiException;
import dev.biogate.http.EdgeHeaders;
import dev.biogate.http.ErrorResponses;
import dev.biogate.http.InboundLimiter;
import dev.biogate.ops.AdminAuth;
import dev.biogate.ops.BuildInfo;
import dev.biogate.ops.GatewayMetrics;
import dev.biogate.ops.HealthHandler;
import dev.biogate.ops.Metrics;
import dev.biogate.http.RequestMetrics;
import dev.biogate.ops.StreamGauges;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.biogate.profile.Freshness;
import dev.biogate.profile.LinksHandler;
import dev.biogate.profile.ProfileCache;
import dev.biogate.profile.ProfileHandler;
import dev.biogate.profile.ProfileService;
import dev.biogate.profile.ProfileStore;
import dev.biogate.redis.RedisClients;
import dev.biogate.upstream.LaneShares;
import dev.biogate.upstream.LinktreeClient;
import dev.biogate.upstream.RedisBudget;
import dev.biogate.webhook.WebhookModule;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.redis.client.Redis;

import java.util.function.LongSupplier;

/**
 * One gateway instance: the shared services (caches, upstream client, Redis) and one HTTP verticle per event loop.
 * Several instances may run in one JVM (tests do), each with its own L1 and sharing whatever Redis they point at.
 */
public final class Gateway {

  private final Vertx vertx;
  private final BiogateConfig config;
  private final Redis redis;
  private final PrometheusMeterRegistry registry;
  private final RedisBudget budget;
  private final Redis budgetRedis;
  private final LinktreeClient upstream;
  private final ProfileService profiles;
  private final WebhookModule webhooks;
  private final StreamGauges streams;
  private final AnalyticsModule analytics;
  private SecretFiles secretFiles;
  private java.util.function.Supplier<Router> routerFactory;
  private volatile int port;
  private String deploymentId;

  private Gateway(Vertx vertx, BiogateConfig config, LongSupplier clock, PrometheusMeterRegistry registry) {
    this.vertx = vertx;
    this.config = config;
    this.registry = registry;
    this.redis = RedisClients.create(vertx, config.redis());
    LinktreeOptions lt = config.linktree();
    // The budget has its own small pool: a storm of cache traffic must not starve its heartbeats and permits.
    this.budgetRedis = Redis.createClient(vertx, RedisClients.options(config.redis()).setMaxPoolSize(2));
    this.budget = new RedisBudget(vertx, budgetRedis, "linktree", lt.rateLimitPerMin(), lt.ratePeriodMs(), lt.profileTimeoutMs(),
      new LaneShares(lt.foregroundReserve(), lt.refreshReserve()));
    this.upstream = new LinktreeClient(vertx, lt, budget, registry);
    Freshness freshness = new Freshness(config.cache());
    ProfileCache l1 = new ProfileCache(config.cache().l1MaxBytes(), freshness, clock);
    this.profiles = new ProfileService(vertx, l1, new ProfileStore(redis, freshness), upstream, freshness, clock,
      config.cache().lockTtlMs(), config.cache().lockWaitMs(), config.cache().lockPollMs());
    this.webhooks = new WebhookModule(vertx, config, redis, profiles, clock);
    this.streams = new StreamGauges(vertx, redis, registry);
    this.analytics = new AnalyticsModule(vertx, config, redis, profiles, clock);
  }

  public static Future<Gateway> start(Vertx vertx, BiogateConfig config) {
    return start(vertx, config, System::currentTimeMillis);
  }

  /** Starts an instance; {@code clock} (epoch ms) drives cache freshness, so tests can move time. */
  public static Future<Gateway> start(Vertx vertx, BiogateConfig config, LongSupplier clock) {
    return start(vertx, config, clock, Metrics.newRegistry());
  }

  /** Starts an instance reporting into {@code registry} (the one Vert.x's own metrics use, when it has them). */
  public static Future<Gateway> start(Vertx vertx, BiogateConfig config, LongSupplier clock, PrometheusMeterRegistry registry) {
    Gateway g = new Gateway(vertx, config, clock, registry);
    return g.deploy().map(g);
  }

  private Future<Void> deploy() {
    budget.start(config.linktree().heartbeatMs());
    RequestMetrics requests = config.http().requestMetrics() ? new RequestMetrics(registry) : RequestMetrics.OFF;
    ProfileHandler profileHandler = new ProfileHandler(profiles, config.cache(), requests);
    GatewayMetrics.bind(registry, profileHandler.stats(), profiles.cache(), budget, upstream);
    BuildInfo.bind(registry);
    GatewayMetrics.bindWebhooks(registry, webhooks.deliveries());
    GatewayMetrics.bindEvents(registry, webhooks.stats());
    GatewayMetrics.bindAnalytics(registry, analytics);
    streams.start();
    LinksHandler links = new LinksHandler(profiles, config.http().cursorSecret());
    HealthHandler health = new HealthHandler(redis, upstream, analytics::sink);
    InboundLimiter limiter = new InboundLimiter(config.http());
    AdminAuth adminAuth = new AdminAuth(config.admin().token());
    secretFiles = new SecretFiles(vertx, config, rotated -> {
      adminAuth.tokenChanged(rotated.admin().token());
      webhooks.secretsChanged(rotated.webhooks());
    }).start(SecretFiles.DEFAULT_PERIOD_MS);
    routerFactory = () -> routes(links, health, requests, adminAuth);
    return vertx.deployVerticle(() -> new GatewayVerticle(config.http().host(), config.http().port(), profileHandler,
          routerFactory, limiter, new EdgeHeaders(config.http().corsOrigins()), p -> port = p)
          .shutdownGrace(config.http().shutdownGraceMs()).tls(config.tls()).accessLog(AccessLog.of(config.accessLog())),
        new DeploymentOptions().setInstances(config.http().instances()))
      .onSuccess(id -> deploymentId = id)
      .compose(id -> webhooks.start())
      .compose(v -> analytics.start());
  }

  private Router routes(LinksHandler links, HealthHandler health, RequestMetrics requests, AdminAuth adminAuth) {
    Router r = Router.router(vertx);
    r.route().order(Integer.MIN_VALUE).handler(ctx -> {
      long start = System.nanoTime();
      ctx.addEndHandler(v -> {
        Route route = ctx.currentRoute();
        String template = route == null || route.getPath() == null ? "unmatched" : route.getPath();
        requests.record(template, ctx.request().method().name(), ctx.response().getStatusCode(), System.nanoTime() - start);
      });
      ctx.next();
    });
    r.get("/v1/profiles/:username/links").handler(links);
    health.mount(r);
    r.route("/admin/*").handler(adminAuth);
    r.get("/metrics").handler(ctx -> vertx.executeBlocking(registry::scrape).onComplete(ar -> {
      if (ar.failed()) {
        ErrorResponses.send(ctx.response(), ar.cause());
      } else {
        ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(ar.result());
      }
    }));
    webhooks.mount(r);
    analytics.mount(r);
    r.route().last().handler(ctx -> ErrorResponses.send(ctx.response(), new ApiException(404, "not_found", "no such resource")));
    r.errorHandler(405, ErrorResponses::handle);
    r.errorHandler(500, ErrorResponses::handle);
    r.errorHandler(400, ErrorResponses::handle);
    r.errorHandler(413, ErrorResponses::handle);
    return r;
  }

  /**
   * A router built exactly as each HTTP verticle builds its own (for inspection: the API description is checked
   * against it). Profile reads ({@code GET|HEAD /v1/profiles/{username}}) are served before the router.
   */
  public Router router() {
    return routerFactory.get();
  }

  /** The port the HTTP servers listen on (resolved when configured as 0). */
  public int port() {
    return port;
  }

  public ProfileService profiles() {
    return profiles;
  }

  public LinktreeClient upstream() {
    return upstream;
  }

  public RedisBudget budget() {
    return budget;
  }

  public AnalyticsModule analytics() {
    return analytics;
  }

  public WebhookModule webhooks() {
    return webhooks;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public Redis redis() {
    return redis;
  }

  public Future<Void> close() {
    Future<Void> undeploy = deploymentId == null ? Future.succeededFuture() : vertx.undeploy(deploymentId);
    if (secretFiles != null) {
      secretFiles.stop();
    }
    return undeploy.eventually(analytics::stop).eventually(webhooks::stop).eventually(() -> {
      budget.stop();
      streams.stop();
      budgetRedis.close();
      upstream.close();
      redis.close();
      return Future.succeededFuture();
    });
  }
}
