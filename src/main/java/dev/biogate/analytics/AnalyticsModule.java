package dev.biogate.analytics;

import dev.biogate.config.AnalyticsOptions;
import dev.biogate.config.BiogateConfig;
import dev.biogate.config.KlaviyoOptions;
import dev.biogate.profile.ProfileService;
import dev.biogate.redis.RedisKeys;
import dev.biogate.sink.KlaviyoAdmin;
import dev.biogate.sink.KlaviyoSink;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.redis.client.Redis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * Click analytics for one gateway instance: the click redirect ({@code GET /r/{username}/{linkId}}), the recorder that
 * never loses a click (clicks stream, else the local journal), the counters maintained from the stream, the
 * creator-scoped analytics API ({@code GET /v1/analytics/{username}/clicks}), creator API keys
 * ({@code /admin/creators/{username}/keys}) and the Klaviyo sink ({@code POST /admin/sinks/klaviyo/replay}).
 * {@link #mount} is called once per HTTP verticle; {@link #start} once per instance, after the HTTP verticles.
 */
public final class AnalyticsModule {

  private static final Logger LOG = LoggerFactory.getLogger(AnalyticsModule.class);

  private final Vertx vertx;
  private final ClickRecorder recorder;
  private final ClickJournal journal;
  private final ClickCounter counter;
  private final StreamGroupReader counterReader;
  private final KlaviyoSink sink;
  private final RedirectHandler redirect;
  private final AnalyticsHandler analytics;
  private final CreatorKeysAdmin keysAdmin;
  private final KlaviyoAdmin klaviyoAdmin;
  private String deploymentId;

  public AnalyticsModule(Vertx vertx, BiogateConfig config, Redis redis, ProfileService profiles, LongSupplier clock) {
    this.vertx = vertx;
    AnalyticsOptions o = config.analytics();
    String consumer = UUID.randomUUID().toString();
    this.journal = new ClickJournal(vertx, Path.of(o.journalPath()), o.fsyncIntervalMs());
    this.recorder = new ClickRecorder(vertx, new ClickStreamWriter(redis, o.streamMaxLen(), o.redisTimeoutMs()), journal,
      o.batchSize(), o.probeMs());
    this.counter = new ClickCounter(redis, profiles, o);
    StreamGroupReader.Settings reading = new StreamGroupReader.Settings(o.readCount(), o.pollMs(), o.claimIdleMs(), o.claimIntervalMs());
    this.counterReader = new StreamGroupReader(vertx, redis, RedisKeys.CLICKS_STREAM, RedisKeys.CLICKS_COUNTER_GROUP, consumer,
      reading, counter);
    this.sink = klaviyo(vertx, config.klaviyo(), redis, profiles, consumer, reading);
    CreatorKeys keys = new CreatorKeys(redis);
    this.redirect = new RedirectHandler(profiles, recorder,
      new ClickGate(o.clicks(), config.http().trustedProxies(), config.http().exemptLoopback()), clock);
    this.analytics = new AnalyticsHandler(keys, new ClickQuery(redis), o.queryTimeoutMs(), o.maxBuckets(), clock);
    this.keysAdmin = new CreatorKeysAdmin(keys, clock);
    this.klaviyoAdmin = new KlaviyoAdmin(sink);
  }

  private static KlaviyoSink klaviyo(Vertx vertx, KlaviyoOptions k, Redis redis, ProfileService profiles, String consumer,
                                     StreamGroupReader.Settings reading) {
    if (!k.enabled()) {
      return null;
    }
    if (k.privateKey() == null) {
      LOG.error("the Klaviyo sink is enabled but no KLAVIYO_PRIVATE_KEY is configured; it stays off");
      return null;
    }
    LOG.info("Klaviyo sink enabled: {} at most {} requests/s, revision {}", k.apiBase(), k.ratePerSec(), k.revision());
    return new KlaviyoSink(vertx, k, redis, profiles, consumer, reading);
  }

  /** Mounts {@code /r/*}, {@code /v1/analytics/*} and the analytics admin routes on one verticle's router. */
  public void mount(Router router) {
    router.route("/r/:username/:linkId").method(io.vertx.core.http.HttpMethod.GET).method(io.vertx.core.http.HttpMethod.HEAD)
      .handler(redirect);
    router.get("/v1/analytics/:username/clicks").handler(analytics);
    keysAdmin.mount(router);
    klaviyoAdmin.mount(router);
  }

  /** Opens the journal (replaying what a previous run left), starts the counters and the sink. */
  public Future<Void> start() {
    return vertx.deployVerticle(new AnalyticsVerticle(recorder, counterReader, sink))
      .onSuccess(id -> deploymentId = id)
      .mapEmpty();
  }

  /** Writes out every click held in memory (Redis, else the journal) and stops the readers after their batch. */
  public Future<Void> stop() {
    String id = deploymentId;
    deploymentId = null;
    return id == null ? Future.succeededFuture() : vertx.undeploy(id);
  }

  /** Records clicks; the public entry point for clicks not coming through the redirect. */
  public ClickRecorder recorder() { return recorder; }
  /** Clicks in the local journal waiting for Redis (a gauge for metrics). */
  public long journalDepth() { return recorder.journalDepth(); }
  /** The journal file in use (the configured path, or a sibling when another instance holds it). */
  public Path journalPath() { return journal.path(); }
  public ClickCounter counter() { return counter; }
  /** The Klaviyo sink, or {@code null} when it is disabled. */
  public KlaviyoSink sink() { return sink; }
}
