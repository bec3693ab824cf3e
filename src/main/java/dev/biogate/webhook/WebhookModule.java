package dev.biogate.webhook;

import dev.biogate.config.BiogateConfig;
import dev.biogate.config.WebhookOptions;
import dev.biogate.events.CacheInvalidation;
import dev.biogate.events.DeadLetters;
import dev.biogate.events.DeliveryHistory;
import dev.biogate.events.EventStats;
import dev.biogate.events.EventsVerticle;
import dev.biogate.ops.AdminHandler;
import dev.biogate.profile.ProfileService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.redis.client.Redis;

import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * Webhook ingestion and durable event processing for one gateway instance.
 * <ul>
 *   <li>{@code POST /webhooks/linktree|linkme} ({@link WebhookRoutes}): verified from the raw bytes, deduplicated
 *       and queued on the events stream in one atomic step, answered at once;</li>
 *   <li>the events stream is read through a consumer group by every instance ({@link EventsVerticle}); entries of
 *       an instance that dies are reclaimed by the others; failures are retried, then dead-lettered;</li>
 *   <li>profile and link events patch the cached copies, and every instance's L1 is invalidated by pub/sub;</li>
 *   <li>{@code /admin/*} ({@link AdminHandler}): dead letters, replay, delivery history, cache purge.</li>
 * </ul>
 */
public final class WebhookModule {

  private final Vertx vertx;
  private final Redis redis;
  private final WebhookOptions options;
  private final boolean klaviyoEnabled;
  private final LongSupplier clock;
  private final ProfileService profiles;
  private final String instanceId = UUID.randomUUID().toString();
  private final EventStats stats = new EventStats();
  private final WebhookStats deliveries = new WebhookStats();
  private final CacheInvalidation invalidation;
  private final WebhookRoutes routes;
  private final AdminHandler admin;
  private String deploymentId;

  public WebhookModule(Vertx vertx, BiogateConfig config, Redis redis, ProfileService profiles, LongSupplier clock) {
    this.vertx = vertx;
    this.redis = redis;
    this.options = config.webhooks();
    this.klaviyoEnabled = config.klaviyo().enabled();
    this.clock = clock;
    this.profiles = profiles;
    this.invalidation = new CacheInvalidation(vertx, redis, profiles, instanceId);
    this.routes = new WebhookRoutes(options, new WebhookIngest(redis, options, clock), clock, deliveries);
    this.admin = new AdminHandler(new DeadLetters(redis, options, clock), new DeliveryHistory(redis), invalidation);
  }

  /** Mounts {@code /webhooks/*} and {@code /admin/*} on the router of one HTTP verticle. */
  public void mount(Router router) {
    routes.mount(router);
    admin.mount(router);
  }

  /** Rotated signing secrets: deliveries are verified with {@code changed}'s secrets from now on. */
  public void secretsChanged(WebhookOptions changed) {
    routes.secretsChanged(changed);
  }

  /** Starts consumers and subscriptions once per instance. */
  public Future<Void> start() {
    return vertx.deployVerticle(new EventsVerticle(redis, options, clock, instanceId, profiles, invalidation, stats,
        klaviyoEnabled))
      .onSuccess(id -> deploymentId = id)
      .mapEmpty();
  }

  /** Stops reading events; entries this instance still held are reclaimed by another instance after claimIdleMs. */
  public Future<Void> stop() {
    String id = deploymentId;
    deploymentId = null;
    return id == null ? Future.succeededFuture() : vertx.undeploy(id);
  }

  /** This instance's event-processing counters. */
  /** Deliveries answered by this instance, by provider and result. */
  public WebhookStats deliveries() {
    return deliveries;
  }

  public EventStats stats() {
    return stats;
  }

  /** The unique name of this instance's consumer in the events group. */
  public String instanceId() {
    return instanceId;
  }
}
