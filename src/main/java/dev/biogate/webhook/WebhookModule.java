package dev.biogate.webhook;

import dev.biogate.config.BiogateConfig;
import dev.biogate.profile.ProfileService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.redis.client.Redis;

import java.util.function.LongSupplier;

/** Webhook ingestion and durable event processing for one gateway instance. (Skeleton: being built.) */
public final class WebhookModule {

  public WebhookModule(Vertx vertx, BiogateConfig config, Redis redis, ProfileService profiles, LongSupplier clock) {
  }

  /** Mounts {@code /webhooks/*} and {@code /admin/*} on the router of one HTTP verticle. */
  public void mount(Router router) {
  }

  /** Starts consumers and subscriptions once per instance. */
  public Future<Void> start() {
    return Future.succeededFuture();
  }

  public Future<Void> stop() {
    return Future.succeededFuture();
  }
}
