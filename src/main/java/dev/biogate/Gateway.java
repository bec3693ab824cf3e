package dev.biogate;

import dev.biogate.config.BiogateConfig;
import dev.biogate.config.LinktreeOptions;
import dev.biogate.http.ApiException;
import dev.biogate.http.ErrorResponses;
import dev.biogate.http.GatewayVerticle;
import dev.biogate.http.InboundLimiter;
import dev.biogate.ops.HealthHandler;
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
  private final RedisBudget budget;
  private final LinktreeClient upstream;
  private final ProfileService profiles;
  private final WebhookModule webhooks;
  private volatile int port;
  private String deploymentId;

  private Gateway(Vertx vertx, BiogateConfig config, LongSupplier clock) {
    this.vertx = vertx;
    this.config = config;
    this.redis = RedisClients.create(vertx, config.redis());
    LinktreeOptions lt = config.linktree();
    this.budget = new RedisBudget(vertx, redis, "linktree", lt.rateLimitPerMin(), lt.ratePeriodMs(),
      new LaneShares(lt.foregroundReserve(), lt.refreshReserve()));
    this.upstream = new LinktreeClient(vertx, lt, budget);
    Freshness freshness = new Freshness(config.cache());
    ProfileCache l1 = new ProfileCache(config.cache().l1MaxBytes(), freshness, clock);
    this.profiles = new ProfileService(vertx, l1, new ProfileStore(redis, freshness), upstream, freshness, clock,
      config.cache().lockTtlMs(), config.cache().lockWaitMs(), config.cache().lockPollMs());
    this.webhooks = new WebhookModule(vertx, config, redis, profiles, clock);
  }

  public static Future<Gateway> start(Vertx vertx, BiogateConfig config) {
    return start(vertx, config, System::currentTimeMillis);
  }

  /** Starts an instance; {@code clock} (epoch ms) drives cache freshness, so tests can move time. */
  public static Future<Gateway> start(Vertx vertx, BiogateConfig config, LongSupplier clock) {
    Gateway g = new Gateway(vertx, config, clock);
    return g.deploy().map(g);
  }

  private Future<Void> deploy() {
    budget.start(config.linktree().heartbeatMs());
    ProfileHandler profileHandler = new ProfileHandler(profiles, config.cache());
    LinksHandler links = new LinksHandler(profiles);
    HealthHandler health = new HealthHandler(redis, upstream);
    InboundLimiter limiter = new InboundLimiter(config.http());
    return vertx.deployVerticle(() -> new GatewayVerticle(config.http().host(), config.http().port(), profileHandler,
          () -> routes(links, health), limiter, p -> port = p),
        new DeploymentOptions().setInstances(config.http().instances()))
      .onSuccess(id -> deploymentId = id)
      .compose(id -> webhooks.start());
  }

  private Router routes(LinksHandler links, HealthHandler health) {
    Router r = Router.router(vertx);
    r.get("/v1/profiles/:username/links").handler(links);
    health.mount(r);
    webhooks.mount(r);
    r.route().last().handler(ctx -> ErrorResponses.send(ctx.response(), new ApiException(404, "not_found", "no such resource")));
    r.errorHandler(405, ErrorResponses::handle);
    r.errorHandler(500, ErrorResponses::handle);
    r.errorHandler(400, ErrorResponses::handle);
    r.errorHandler(413, ErrorResponses::handle);
    return r;
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

  public WebhookModule webhooks() {
    return webhooks;
  }

  public Redis redis() {
    return redis;
  }

  public Future<Void> close() {
    Future<Void> undeploy = deploymentId == null ? Future.succeededFuture() : vertx.undeploy(deploymentId);
    return undeploy.eventually(webhooks::stop).eventually(() -> {
      budget.stop();
      upstream.close();
      redis.close();
      return Future.succeededFuture();
    });
  }
}
