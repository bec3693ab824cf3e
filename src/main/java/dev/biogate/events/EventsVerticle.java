package dev.biogate.events;

import dev.biogate.config.WebhookOptions;
import dev.biogate.profile.ProfileService;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.ext.web.client.WebClient;
import io.vertx.redis.client.Redis;

import java.util.function.LongSupplier;

/**
 * One instance's event processing, confined to one event-loop context: the stream consumer (blocking reads on a
 * dedicated connection), the processor with its retries, heartbeat and reclaim timers, and the cache-invalidation
 * subscription. Undeploying stops reading; entries still held stay pending in Redis and another instance claims
 * them after {@code claimIdleMs}.
 */
public final class EventsVerticle extends VerticleBase {

  private final Redis redis;
  private final WebhookOptions options;
  private final LongSupplier clock;
  private final String consumerName;
  private final ProfileService profiles;
  private final CacheInvalidation invalidation;
  private final EventStats stats;
  private final boolean milestonesToKlaviyo;
  private WebClient client;
  private EventStream stream;
  private EventProcessor processor;
  private EventConsumer consumer;
  private EventClaims claims;

  public EventsVerticle(Redis redis, WebhookOptions options, LongSupplier clock, String consumerName,
                        ProfileService profiles, CacheInvalidation invalidation, EventStats stats, boolean milestonesToKlaviyo) {
    this.milestonesToKlaviyo = milestonesToKlaviyo;
    this.redis = redis;
    this.options = options;
    this.clock = clock;
    this.consumerName = consumerName;
    this.profiles = profiles;
    this.invalidation = invalidation;
    this.stats = stats;
  }

  @Override
  public Future<?> start() {
    client = WebClient.create(vertx);
    EventRouter router = new EventRouter(new ProfileEventHandler(profiles, invalidation, new PatchLock(vertx, redis)),
      new MilestoneForwarder(client, options.alertUrl(), options.alertSecret(), redis, milestonesToKlaviyo), new ClickRecorder(redis, options.streamMaxLen()),
      new KlaviyoEvents(redis));
    stream = new EventStream(redis, options, clock, consumerName);
    processor = new EventProcessor(vertx, options, stream, router, stats);
    consumer = new EventConsumer(vertx, redis, stream, processor);
    claims = new EventClaims(vertx, options, stream, processor, stats);
    return invalidation.start().compose(v -> consumer.start()).onSuccess(v -> claims.start());
  }

  @Override
  public Future<?> stop() {
    claims.stop();
    processor.stop();
    invalidation.stop();
    return consumer.stop()
      .compose(v -> stream.retire().timeout(1_000, java.util.concurrent.TimeUnit.MILLISECONDS).otherwiseEmpty())
      .eventually(() -> {
        client.close();
        return Future.succeededFuture();
      });
  }
}
