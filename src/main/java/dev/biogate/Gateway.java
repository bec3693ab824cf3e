package dev.biogate;

import dev.biogate.analytics.AnalyticsHandler;
import dev.biogate.analytics.ClickCounter;
import dev.biogate.analytics.ClickGate;
import dev.biogate.analytics.ClickQuery;
import dev.biogate.analytics.ClickRecorder;
import dev.biogate.analytics.ClickStreamWriter;
import dev.biogate.analytics.CreatorKeys;
import dev.biogate.analytics.CreatorKeysAdmin;
import dev.biogate.analytics.RedirectHandler;
import dev.biogate.config.AnalyticsOptions;
import dev.biogate.config.BiogateConfig;
import dev.biogate.config.ConfigException;
import dev.biogate.config.DestinationOptions;
import dev.biogate.config.LinkmeAttributionOptions;
import dev.biogate.config.KlaviyoOptions;
import dev.biogate.config.LinktreeOptions;
import dev.biogate.config.RedisConfig;
import dev.biogate.config.WebhookOptions;
import dev.biogate.destination.DestinationAdmin;
import dev.biogate.destination.DestinationDirectory;
import dev.biogate.destination.DestinationSender;
import dev.biogate.destination.FanOut;
import dev.biogate.destination.OutboundDeadLetters;
import dev.biogate.destination.OutboundKeys;
import dev.biogate.events.CacheInvalidation;
import dev.biogate.events.DeadLetters;
import dev.biogate.events.DeliveryHistory;
import dev.biogate.events.EventRouter;
import dev.biogate.events.KlaviyoEvents;
import dev.biogate.events.LinkmeClicks;
import dev.biogate.events.Milestones;
import dev.biogate.config.SecretFiles;
import dev.biogate.http.AccessLog;
import dev.biogate.http.ClientAddress;
import dev.biogate.http.ConnectionLimits;
import dev.biogate.http.ApiException;
import dev.biogate.http.EdgeHeaders;
import dev.biogate.http.ErrorResponses;
import dev.biogate.http.GatewayVerticle;
import dev.biogate.http.InboundLimiter;
import dev.biogate.http.Listeners;
import dev.biogate.http.ManagementVerticle;
import dev.biogate.http.Methods;
import dev.biogate.ops.AdminAuth;
import dev.biogate.ops.AdminHandler;
import dev.biogate.ops.AdminGuessLimit;
import dev.biogate.ops.BuildInfo;
import dev.biogate.ops.GatewayMetrics;
import dev.biogate.ops.HealthHandler;
import dev.biogate.ops.MetricsRoute;
import dev.biogate.ops.Metrics;
import dev.biogate.http.RequestMetrics;
import dev.biogate.links.LinkJobs;
import dev.biogate.ops.StreamGauges;
import dev.biogate.profile.Freshness;
import dev.biogate.profile.LinksHandler;
import dev.biogate.profile.ProfileCache;
import dev.biogate.profile.ProfileHandler;
import dev.biogate.profile.ProfileService;
import dev.biogate.profile.ProfileStore;
import dev.biogate.redis.MultiplexedRedis;
import dev.biogate.redis.ClusterRedis;
import dev.biogate.redis.RedisClients;
import dev.biogate.redis.RedisMode;
import dev.biogate.redis.ReplicaWatch;
import dev.biogate.redis.SentinelEndpoints;
import dev.biogate.redis.SentinelGroup;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.Shards;
import dev.biogate.sink.KlaviyoAdmin;
import dev.biogate.sink.KlaviyoSink;
import dev.biogate.stream.StreamEngine;
import dev.biogate.stream.StreamPolicy;
import dev.biogate.stream.StreamStats;
import dev.biogate.stream.StreamWakeups;
import dev.biogate.upstream.LaneShares;
import dev.biogate.upstream.LaneUsage;
import dev.biogate.ops.ConsoleOverview;
import dev.biogate.ops.ConsolePage;
import dev.biogate.upstream.LinktreeClient;
import dev.biogate.upstream.MissAdmission;
import dev.biogate.upstream.RedisBudget;
import dev.biogate.upstream.SharedBreaker;
import dev.biogate.webhook.WebhookRoutes;
import dev.biogate.webhook.WebhookStats;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.redis.client.Redis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * One gateway instance, and the only place its parts are wired: the shared services (caches, upstream client,
 * Redis), one HTTP verticle per event loop, and the background work: the stream engines (events, click counters,
 * the Klaviyo sink), the click recorder and the cache-invalidation subscription. Several instances may run in one
 * JVM (tests do), each with its own L1 and sharing whatever Redis they point at.
 */
public final class Gateway {

  private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);
  /**
   * Renewals after a master switch, after the first: once the dedicated connections' Sentinel client (subscriptions,
   * replica waits) has forgotten the old master (it remembers an answer for 1 s), once every Sentinel knows.
   */
  private static final long SWITCH_RENEW_AGAIN_MS = 1_200;
  private static final long SWITCH_RENEW_LAST_MS = 4_000;

  private final Vertx vertx;
  private final BiogateConfig config;
  private final Redis redis;
  private final PrometheusMeterRegistry registry;
  private final RedisBudget budget;
  private final Redis budgetRedis;
  private final Redis livenessRedis;
  /** Under Sentinel, the replicas, for shared copies while the master does not answer; null otherwise. */
  private final Redis replicaReads;
  private final LinktreeClient upstream;
  private final ProfileService profiles;
  private final LinksHandler links;
  private final StreamGauges streams;
  private final String instanceId = UUID.randomUUID().toString();
  // Webhooks and events
  private final CacheInvalidation invalidation;
  private final ReplicaWatch replicas;
  /** Sentinel deployments: the Sentinels, watched for master switches; null otherwise. */
  private final SentinelGroup sentinels;
  private final WebhookStats deliveries = new WebhookStats();
  private final WebhookRoutes webhookRoutes;
  private final AdminHandler admin;
  private final StreamStats eventStats = new StreamStats();
  /** This process's engines by stream: ingest and the click writer wake the local reader of what they queued. */
  private final StreamWakeups wakeups = new StreamWakeups();
  private final StreamStats outboundStats = new StreamStats();
  // Clicks and sinks
  private final ClickStreamWriter clickWriter;
  private final ClickRecorder recorder;
  private final ClickCounter counter;
  private final KlaviyoSink klaviyo;
  private final RedirectHandler redirect;
  private final ClickGate clickGate;
  private final AnalyticsHandler analyticsApi;
  private final CreatorKeysAdmin keysAdmin;
  private final KlaviyoAdmin klaviyoAdmin;
  // Outbound destinations
  private final FanOut fanOut;
  private final DestinationDirectory directory;
  private final DestinationSender destinations;
  private final DestinationAdmin destinationAdmin;
  private final List<String> background = new ArrayList<>();
  /** The events handler, told at the stop to make what it still owes ({@code null} until the engines are built). */
  private EventRouter eventRouter;
  private final LinkJobs jobs;
  private final LaneUsage usage;
  private final Shards shards;
  /** How often a running instance records its shard count again, should Redis have lost it. */
  static final long SHARDS_RECORD_MS = 2_000;
  /** How often an instance looks again at the fingerprint secret shared through Redis (see {@link ClickGate}). */
  static final long FINGERPRINT_SECRET_LOOK_MS = 5_000;
  private long shardsTimer = -1;
  /** Webhook events an instance works on at once, over all shards. */
  private static final int EVENTS_HELD = 64;
  /** Readiness looks at no more cache entries than this for a copy it could serve (the rest may be remembered 404s). */
  private static final int READY_SCAN_LIMIT = 10_000;
  private static final int MIN_HELD_PER_SHARD = 16;
  /**
   * An engine whose reads keep finding nothing (events shards, outbound stream) pauses up to this long between reads:
   * what this instance queues wakes its own reader at once, so only entries another instance queued and could not take
   * wait for it. The outbound reader polled every 100 ms for good, a tenth of an idle instance's Redis calls.
   */
  private static final long IDLE_POLL_MAX_MS = 1_000;
  private SecretFiles secretFiles;
  private java.util.function.Supplier<Router> routerFactory;
  private java.util.function.Supplier<Router> managementRouterFactory;
  private volatile int port;
  private volatile int managementPort;
  private String deploymentId;
  private String managementDeploymentId;

  private Gateway(Vertx vertx, BiogateConfig config, LongSupplier clock, PrometheusMeterRegistry registry) {
    this.vertx = vertx;
    this.config = config;
    this.registry = registry;
    // Under Sentinel, master lookups ask the Sentinel that announced the last switch first (see SentinelEndpoints).
    SentinelEndpoints sentinelOrder = new SentinelEndpoints(config.redis().endpoints());
    this.redis = RedisClients.create(vertx, config.redis(), sentinelOrder);
    LinktreeOptions lt = config.linktree();
    // The budget and the stream engines' heartbeats have connections of their own: a storm of cache or webhook
    // traffic must not queue ahead of permits, nor make a live instance look dead.
    this.budgetRedis = RedisClients.create(vertx, config.redis(), sentinelOrder);
    this.livenessRedis = RedisClients.create(vertx, config.redis(), sentinelOrder);
    this.budget = new RedisBudget(vertx, budgetRedis, "linktree", lt.rateLimitPerMin(), lt.ratePeriodMs(), lt.profileTimeoutMs(),
      new LaneShares(lt.foregroundReserve(), lt.refreshReserve(), lt.firstSight().share()), lt.maxInstances(), lt.localGrantMs());
    this.usage = new LaneUsage(budget, redis, "linktree", clock);
    this.upstream = new LinktreeClient(vertx, lt, usage, registry, new MissAdmission(redis, lt.firstSight(), budget::isDegraded));
    Freshness freshness = new Freshness(config.cache());
    // The copies' objects take at most five eighths of the heap (100 MiB, ~100,000 copies, at -Xmx160m).
    long heap = Runtime.getRuntime().maxMemory();
    ProfileCache l1 = new ProfileCache(config.cache().l1MaxBytes(), heap == Long.MAX_VALUE ? Long.MAX_VALUE : heap / 8 * 5,
      freshness, clock);
    String invalidateChannel = RedisKeys.invalidateChannel(config.redis().database());
    this.replicaReads = redis instanceof ClusterRedis ? ((ClusterRedis) redis).replicaReads()
      : RedisClients.replicaReads(vertx, config.redis(), sentinelOrder);
    this.shards = new Shards(config.webhooks().shards());
    this.streams = new StreamGauges(vertx, redis, registry, shards.count(), config.webhooks().streamMaxLen(),
      config.analytics().streamMaxLen(), config.destinations().streamMaxLen());
    WebhookOptions w = config.webhooks();
    this.sentinels = config.redis().type() == RedisConfig.Type.SENTINEL ? followSwitches(new SentinelGroup(vertx, config.redis(), sentinelOrder)) : null;
    this.replicas = new ReplicaWatch(vertx, redis, w.replicaWait(), shards.count(), sentinels,
      // One key per slot outside the webhook shards: jobs, creator keys and Klaviyo dead letters share {bg}.
      List.of(OutboundKeys.STREAM, RedisKeys.JOBS_ACTIVE), w.replicaLossHoldMs());
    // Webhook changes are made durable as the watch says for the profile's own master.
    ProfileStore.Durability durability = new ProfileStore.Durability(replicas, w.replicaWaitMs());
    this.profiles = new ProfileService(vertx, l1, new ProfileStore(redis, replicaReads, freshness, invalidateChannel, durability),
      upstream, freshness, clock,
      config.cache().lockTtlMs(), config.cache().lockWaitMs(), config.cache().lockPollMs(),
      config.cache().staleIfSlowMs());
    this.invalidation = new CacheInvalidation(vertx, redis, profiles, invalidateChannel);
    this.jobs = new LinkJobs(vertx, redis, upstream, config.jobs(), clock, replicas, w.replicaWaitMs(), profiles::outdate);
    this.webhookRoutes = WebhookRoutes.create(w, redis, clock, deliveries, replicas, wakeups::wake,
      ClientAddress.trusting(config.http().trustedProxies()), config.http().exemptLoopback());

    AnalyticsOptions a = config.analytics();
    this.clickWriter = new ClickStreamWriter(redis, shards, a.streamMaxLen(), a.redisTimeoutMs(), wakeups::wake,
      replicas, w.replicaWaitMs());
    this.recorder = ClickRecorder.create(vertx, clickWriter, a);
    this.counter = new ClickCounter(redis, profiles, a);
    this.klaviyo = klaviyo(vertx, config.klaviyo(), redis, profiles, shards.count(), replicas, w.replicaWaitMs());
    CreatorKeys keys = new CreatorKeys(redis, replicas, w.replicaWaitMs());
    this.clickGate = new ClickGate(a.clicks(), config.http().trustedProxies(), config.http().exemptLoopback());
    // Redirect targets and decoded link lists: half of cache.derivedMaxBytes each.
    long derivedHalf = config.cache().derivedBytes(Runtime.getRuntime().maxMemory()) / 2;
    this.redirect = new RedirectHandler(profiles, recorder, clickGate, clock, derivedHalf);
    this.links = new LinksHandler(profiles, config.http().cursorSecret(), derivedHalf);
    this.analyticsApi = new AnalyticsHandler(keys, new ClickQuery(redis), a.queryTimeoutMs(), a.maxBuckets(), a.maxQueries(), clock);
    this.keysAdmin = new CreatorKeysAdmin(keys, clock);
    this.klaviyoAdmin = new KlaviyoAdmin(klaviyo);

    DestinationOptions d = config.destinations();
    this.directory = new DestinationDirectory(vertx, redis, d);
    this.fanOut = new FanOut(redis, d, w.dedupeWindowS(), directory, wakeups::wake);
    this.destinations = new DestinationSender(vertx, redis, d, w.dedupeWindowS(), directory);
    OutboundDeadLetters outbound = new OutboundDeadLetters(redis, w.dedupeWindowS(), replicas, w.replicaWaitMs());
    this.destinationAdmin = new DestinationAdmin(destinations, outbound);
    this.admin = new AdminHandler(new DeadLetters(redis, w, clock, replicas),
      new DeliveryHistory(redis, shards.count()).withDestinations(fanOut, outbound), invalidation);
  }

  private static KlaviyoSink klaviyo(Vertx vertx, KlaviyoOptions k, Redis redis, ProfileService profiles, int shards,
                                     ReplicaWatch replicas, long replicaWaitMs) {
    if (!k.enabled()) {
      return null;
    }
    if (k.privateKey() == null) {
      LOG.error("the Klaviyo sink is enabled but no KLAVIYO_PRIVATE_KEY is configured; it stays off");
      return null;
    }
    LOG.info("Klaviyo sink enabled: {} at most {} requests/s, revision {}", k.apiBase(), k.ratePerSec(), k.revision());
    return new KlaviyoSink(vertx, k, redis, profiles, shards, replicas, replicaWaitMs);
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
    // A start that fails half-way (a busy port) stops what it started, in order, before the caller closes Vert.x:
    // closing Vert.x under running engines fails their Redis calls one by one, each with a log line.
    return g.deploy().map(g).recover(err -> g.close().transform(ar -> Future.failedFuture(err)));
  }

  private Future<Void> deploy() {
    // A type that does not match the server (a standalone server named as a Cluster) can never work either.
    // Nor can credentials the server refuses, or a database it does not have.
    return RedisMode.mismatch(vertx, config.redis()).compose(mismatch -> mismatch == null
      ? RedisMode.refusedCredentials(vertx, config.redis())
      : Future.failedFuture(new ConfigException(config.settingName("redis.type"), mismatch)))
      .compose(refused -> refused == null ? RedisMode.missingDatabase(vertx, config.redis())
        : Future.failedFuture(new ConfigException(RedisMode.passwordSetting(config), refused)))
      .compose(missing -> missing == null ? RedisMode.unneededPassword(vertx, config.redis())
        : Future.failedFuture(new ConfigException(RedisMode.databaseSetting(config), missing)))
      .compose(unneeded -> {
        if (unneeded != null) {
          LOG.warn("risky setting: {}: {}", RedisMode.passwordSetting(config), unneeded);
        }
        return deployOnConfirmedType();
      });
  }

  private Future<Void> deployOnConfirmedType() {
    if (sentinels == null) {
      return agreeOnShards().compose(v -> deployInstance());
    }
    // A master name no Sentinel knows can never work; Sentinels that do not answer are an outage, started through.
    String name = config.redis().masterName();
    return sentinels.knowsMaster().compose(known -> known ? agreeOnShards().compose(v -> deployInstance())
      : Future.failedFuture(new ConfigException(config.settingName("redis.masterName"),
        "no Sentinel of the configured endpoints knows a master named '" + name + "'")));
  }

  /**
   * Fails the start when the deployment on this Redis records another shard count than this instance's: an instance
   * on 8 shards next to one on 16 started without a word and refused most redeliveries of the other's events with a
   * 503 that blamed the queue. The first instance records its count; Redis not answering is an outage, started
   * through with a warning (the count then goes unchecked). Changing the count: README, "One shard count per
   * deployment".
   */
  private Future<Void> agreeOnShards() {
    String setting = config.settingName("webhooks.shards");
    String mine = Integer.toString(shards.count());
    return shards.record(redis, config.redis().commandTimeoutMs()).compose(recorded -> {
      if (recorded == null) {
        LOG.warn("{}: Redis did not answer the check; the shard count ({}) is not checked against the deployment's",
          setting, mine);
        return Future.succeededFuture();
      }
      if (recorded.equals(mine)) {
        return Future.succeededFuture();
      }
      return Future.failedFuture(new ConfigException(setting, "this instance has " + mine + " shards but the deployment"
        + " on this Redis records " + recorded + " (key " + RedisKeys.WEBHOOK_SHARDS + "): every instance must use the"
        + " same count, or deliveries land on shards the others do not dedupe or read; set " + recorded
        + ", or change the count deliberately as the README says (\"One shard count per deployment\": every instance"
        + " stopped, then DEL the key)"));
    });
  }

  /**
   * Records this instance's shard count again every {@link #SHARDS_RECORD_MS} while it runs, if none is recorded:
   * Redis back without its data (a restart without persistence, FLUSHALL) lost the record, and a start on another
   * count then went through, recorded its own and handled 46 of 100 retries again in a drill. A running instance
   * that finds another count recorded says so, once (it cannot stop).
   */
  private void keepShardsRecorded() {
    String mine = Integer.toString(shards.count());
    boolean[] said = {false};
    shardsTimer = vertx.setPeriodic(SHARDS_RECORD_MS, t -> shards.record(redis, config.redis().commandTimeoutMs()).onSuccess(recorded -> {
      if (recorded != null && !recorded.equals(mine) && !said[0]) {
        said[0] = true;
        LOG.error("{}: this instance has {} shards but the deployment on this Redis now records {} (key {}): deliveries"
          + " land on shards the others do not dedupe; stop the instances on the wrong count", config.settingName("webhooks.shards"),
          mine, recorded, RedisKeys.WEBHOOK_SHARDS);
      }
    }));
  }

  private Future<Void> deployInstance() {
    keepShardsRecorded();
    // Before the listener opens, so that the first clicks are keyed like every other instance's (Redis permitting).
    Future<Void> sharedSecret = clickGate.shareSecret(vertx, redis, FINGERPRINT_SECRET_LOOK_MS);
    budget.start(config.linktree().heartbeatMs());
    RequestMetrics requests = config.http().requestMetrics() ? new RequestMetrics(registry) : RequestMetrics.OFF;
    ProfileHandler profileHandler = new ProfileHandler(profiles, config.cache(), requests);
    GatewayMetrics.bind(registry, profileHandler.stats(), profiles.cache(), budget, upstream);
    GatewayMetrics.bindAdmission(registry, usage, upstream.admission());
    BuildInfo.bind(registry);
    GatewayMetrics.bindWebhooks(registry, deliveries);
    GatewayMetrics.bindWebhookBodies(registry, webhookRoutes);
    GatewayMetrics.bindEvents(registry, eventStats);
    GatewayMetrics.bindAnalytics(registry, recorder, counter, klaviyo);
    GatewayMetrics.bindAnalyticsQueries(registry, analyticsApi);
    streams.start();
    GatewayMetrics.bindDerived(registry, links, redirect);
    // The mark outlives the reset by a probe's length: half-open, the breaker is still the one a probe may reopen.
    SharedBreaker sharedBreaker = new SharedBreaker(redis, "linktree",
      config.linktree().breakerResetMs() + config.linktree().profileTimeoutMs());
    upstream.onBreakerChange(sharedBreaker::changed);
    HealthHandler health = new HealthHandler(redis, upstream, () -> klaviyo, () -> profiles.cache().holdsCopy(READY_SCAN_LIMIT),
      sharedBreaker, replicas::unconfirmedShards, webhookRoutes::refusingShards, replicas::shardsWithoutTheirReplica,
      replicas::awaitingReplicaShards);
    io.micrometer.core.instrument.Gauge.builder("biogate.redis.shards.without.replica", replicas,
        ReplicaWatch::shardsWithoutTheirReplica)
      .description("Webhook shards whose master had a replica and has none now (deliveries rest on one server)")
      .register(registry);
    io.micrometer.core.instrument.Gauge.builder("biogate.redis.shards.awaiting.replica", replicas,
        ReplicaWatch::awaitingReplicaShards)
      .description("Webhook shards whose master lost its replica: deliveries answered 503 until one is in sync, "
        + "for at most webhooks.replicaLossHoldMs")
      .register(registry);
    InboundLimiter limiter = new InboundLimiter(config.http()).observeClients(MissAdmission::attribute);
    AdminAuth adminAuth = new AdminAuth(config.admin().token(), new AdminGuessLimit(registry),
      ClientAddress.trusting(config.http().trustedProxies()));
    secretFiles = new SecretFiles(vertx, config, rotated -> {
      adminAuth.tokenChanged(rotated.admin().token());
      webhookRoutes.secretsChanged(rotated.webhooks());
    }).start(SecretFiles.DEFAULT_PERIOD_MS);
    routerFactory = () -> routes(links, health, requests, adminAuth, false);
    managementRouterFactory = () -> routes(links, health, requests, adminAuth, true);
    AccessLog accessLog = AccessLog.of(config.accessLog());
    ConnectionLimits connections = new ConnectionLimits(config.http());
    GatewayMetrics.bindConnections(registry, connections);
    // Peers learn which destinations this instance sends to before it accepts an event for them. The masters' replicas
    // are sampled before the port opens: until then every shard counted as having none to wait for, and a restarted
    // instance acknowledged deliveries (and their route pins) on a promoted master alone, which a second fault lost
    // (a re-drill: 8 of 2,001 accepted again when re-sent).
    return sharedSecret.compose(v -> directory.start()).compose(announced -> {
        if (sentinels != null) {
          sentinels.start();
        }
        return replicas.start();
      })
      .compose(sampled -> vertx.deployVerticle(() -> new GatewayVerticle(config.http().host(), config.http().port(), profileHandler,
          routerFactory, limiter, new EdgeHeaders(config.http().corsOrigins()), p -> port = p)
          .shutdownGrace(config.http().shutdownGraceMs())
          .requestDeadlines(config.http().requestHeaderTimeoutMs(), config.http().requestBodyTimeoutMs())
          .closeLinger(config.http().closeLingerMs())
          .tls(config.tls()).accessLog(accessLog).direct(redirect.direct(requests)).connectionLimits(connections),
        new DeploymentOptions().setInstances(config.http().instances())))
      .onSuccess(id -> deploymentId = id)
      .compose(id -> vertx.deployVerticle(new ManagementVerticle(config.http().managementHost(), config.http().managementPort(),
        managementRouterFactory, new EdgeHeaders(java.util.List.of()), p -> managementPort = p).tls(config.tls()).accessLog(accessLog)
        .requestDeadlines(config.http().requestHeaderTimeoutMs(), config.http().requestBodyTimeoutMs())
          .closeLinger(config.http().closeLingerMs())
        .connectionLimits(ConnectionLimits.management(config.http())))
        // A bind failure here is the management port's, not the client port's: say which setting to change.
        .recover(err -> Future.failedFuture(Launcher.addressInUse(err)
          ? new ConfigException(config.settingName("http.management.port"), "the port is already in use (" + err.getMessage() + ")")
          : err)))
      .onSuccess(id -> managementDeploymentId = id)
      .compose(v -> invalidation.start())
      .compose(v -> startBackground())
      .onSuccess(v -> jobs.start());
  }

  /**
   * The click recorder (its journal must open: a click could otherwise be lost), then one engine per stream: per
   * shard for the events and clicks streams. Engines poll without BLOCK, so none holds a connection: the shards share
   * the multiplexed client's connections, and each shard's reads go to the master owning its slot.
   */
  private Future<Void> startBackground() {
    WebhookOptions w = config.webhooks();
    AnalyticsOptions a = config.analytics();
    Milestones milestones = new Milestones(redis, klaviyo != null);
    LinkmeClicks linkmeClicks = new LinkmeClicks(clickWriter);
    KlaviyoEvents klaviyoEvents = new KlaviyoEvents(redis);
    LinkmeAttributionOptions linkme = config.linkme();
    // One router for every shard: what it did rides on each entry's acknowledgement, on the entry's own shard.
    EventRouter events = EventRouter.create(profiles, redis, milestones, linkmeClicks, klaviyoEvents, linkme, fanOut);
    this.eventRouter = events;
    List<StreamEngine> engines = new ArrayList<>();
    StreamStats clickStats = new StreamStats();
    StreamStats sinkStats = new StreamStats();
    for (int s = 0; s < shards.count(); s++) {
      int shard = s;
      StreamPolicy eventsPolicy = new StreamPolicy(RedisKeys.eventsShard(s), RedisKeys.EVENTS_GROUP).soleReader(true)
        .idlePollMaxMs(IDLE_POLL_MAX_MS).maxHeld(perShard(EVENTS_HELD)).maxAttempts(w.maxAttempts()).retry(w.retryBaseMs(), 600_000).heartbeatTtlMs(w.heartbeatTtlMs())
        .idleClaimMs(w.claimIdleMs()).deadLetters(RedisKeys.deadLettersShard(s), w.streamMaxLen())
        .history(e -> DeadLetters.historyKey(shard, e), w.dedupeWindowS());
      engines.add(new StreamEngine(redis, livenessRedis, eventsPolicy, instanceId, events, eventStats));
      // Counting fails only on Redis trouble: retried until it works, never dead-lettered. Clicks are sharded by
      // creator, so a viral creator's clicks all land on one shard: each shard reads the full readCount (one script
      // call counts a whole read), or that shard alone would cap the counting rate at a sixteenth of it.
      engines.add(new StreamEngine(redis, livenessRedis, clicks(new StreamPolicy(RedisKeys.clicksShard(s), RedisKeys.CLICKS_COUNTER_GROUP)
        .maxHeld(a.readCount()).maxAttempts(Integer.MAX_VALUE).retry(100, 5_000)), instanceId, counter, clickStats));
    }
    GatewayMetrics.bindStream(registry, "bg:events", RedisKeys.EVENTS_GROUP, eventStats);
    GatewayMetrics.bindStream(registry, "bg:clicks", RedisKeys.CLICKS_COUNTER_GROUP, clickStats);
    // The outbound stream has its own tag: one engine, unsharded.
    // A delivery is sent only after its ownership check reached a replica (where the master has one): a check made on
    // a master losing its writes in a switch let two instances send the same delivery (a drill: 69 and 76 repeats).
    int outboundMaster = replicas.indexOf(OutboundKeys.STREAM);
    StreamPolicy outbound = destinations.policy().idlePollMaxMs(IDLE_POLL_MAX_MS).heartbeatTtlMs(w.heartbeatTtlMs()).idleClaimMs(w.claimIdleMs())
      .durableConfirm(() -> replicas.replicasToWait(outboundMaster), w.replicaWaitMs(),
        (acked, wanted) -> replicas.missed(outboundMaster, acked, wanted));
    GatewayMetrics.bindStream(registry, outbound.stream(), outbound.group(), outboundStats);
    engines.add(new StreamEngine(redis, livenessRedis, outbound, instanceId, destinations, outboundStats));
    if (klaviyo != null) {
      klaviyo.start();
      klaviyo.policies().forEach(p -> engines.add(new StreamEngine(redis, livenessRedis, clicks(p), instanceId, klaviyo,
        p.stream().equals(RedisKeys.KLAVIYO_RETRY) ? engineStats(p) : sinkStats)));
      GatewayMetrics.bindStream(registry, "bg:clicks", RedisKeys.KLAVIYO_GROUP, sinkStats);
    }
    Future<Void> chain = vertx.deployVerticle(recorder).onSuccess(background::add).mapEmpty();
    for (StreamEngine e : engines) {
      wakeups.register(e);
      chain = chain.compose(v -> vertx.deployVerticle(e)).onSuccess(background::add).mapEmpty();
    }
    return chain;
  }

  /**
   * An instance holds about as many entries over all shards as it did from one stream: {@code total} split over the
   * shards, at least {@value #MIN_HELD_PER_SHARD} each (so each shard's reads still batch). Without the split an
   * instance would take 16 × its share at once and starve the others of work.
   */
  private int perShard(int total) {
    return Math.max(MIN_HELD_PER_SHARD, total / shards.count());
  }

  /** Stats of an unsharded stream, reported under its own key. */
  private StreamStats engineStats(StreamPolicy p) {
    StreamStats s = new StreamStats();
    GatewayMetrics.bindStream(registry, p.stream(), p.group(), s);
    return s;
  }

  private StreamPolicy clicks(StreamPolicy p) {
    AnalyticsOptions a = config.analytics();
    return p.pollMs(a.pollMs()).idlePollMaxMs(IDLE_POLL_MAX_MS).heartbeatTtlMs(a.heartbeatTtlMs()).idleClaimMs(a.claimIdleMs()).reapIntervalMs(a.claimIntervalMs());
  }

  /** One router per listener: {@link Listeners#only} keeps operator paths off the client port and vice versa. */
  private Router routes(LinksHandler links, HealthHandler health, RequestMetrics requests, AdminAuth adminAuth, boolean management) {
    Router r = Router.router(vertx);
    r.route().order(Integer.MIN_VALUE + 1).handler(Listeners.only(management));
    r.route().order(Integer.MIN_VALUE + 2).handler(Methods::routedHead);
    r.route().order(Integer.MIN_VALUE).handler(ctx -> {
      long start = System.nanoTime();
      ctx.addEndHandler(v -> {
        Route route = ctx.currentRoute();
        String template = route == null || route.getPath() == null ? "unmatched" : route.getPath();
        // A request whose connection closed before its answer was sent (a client that gave up mid-body, a body the
        // decoder refused) is 499, not the 200 the unsent response still holds.
        int status = v.succeeded() ? ctx.response().getStatusCode() : RequestMetrics.CLOSED_BEFORE_ANSWER;
        requests.record(template, ctx.request().method().name(), status, System.nanoTime() - start);
      });
      ctx.next();
    });
    r.get("/v1/profiles/:username/links").handler(links);
    health.mount(r);
    new ConsolePage().mount(r);
    r.route("/admin/*").handler(adminAuth);
    r.get("/metrics").handler(new MetricsRoute(vertx, registry));
    webhookRoutes.mount(r);
    admin.mount(r);
    jobs.mount(r);
    new ConsoleOverview(redis, usage, registry, config.linktree().rateLimitPerMin(), shards.count()).mount(r);
    r.route(RedirectHandler.ROUTE).method(io.vertx.core.http.HttpMethod.GET).method(io.vertx.core.http.HttpMethod.HEAD)
      .handler(redirect);
    r.get("/v1/analytics/:username/clicks").handler(analyticsApi);
    keysAdmin.mount(r);
    klaviyoAdmin.mount(r);
    destinationAdmin.mount(r);
    r.route().last().handler(ctx -> Methods.notFound(r, ctx));
    Methods.headForGets(r);
    r.errorHandler(404, ErrorResponses::handle);
    r.errorHandler(405, ctx -> Methods.notAllowed(r, ctx));
    r.errorHandler(500, ErrorResponses::handle);
    r.errorHandler(400, ErrorResponses::handle);
    r.errorHandler(413, ErrorResponses::handle);
    // A body handler fails its request with status 200 when the connection fails under it (a reset mid-body):
    // without a handler for that code Vert.x logs it as an ERROR with its stack.
    r.errorHandler(200, ErrorResponses::handle);
    return r;
  }

  /**
   * A router built exactly as each HTTP verticle builds its own (for inspection: the API description is checked
   * against it). Profile reads ({@code GET|HEAD /v1/profiles/{username}}) are served before the router.
   */
  public Router router() {
    return routerFactory.get();
  }

  /** The management listener's router, built as {@link ManagementVerticle} builds it (for inspection, like {@link #router()}). */
  public Router managementRouter() {
    return managementRouterFactory.get();
  }

  /** The port the HTTP servers listen on (resolved when configured as 0). */
  public int port() {
    return port;
  }

  /** The port of the management listener ({@code /metrics}, {@code /admin/*}), resolved when configured as 0. */
  public int managementPort() {
    return managementPort;
  }

  /** The links route, with its bounded cache of decoded links. */
  public LinksHandler links() {
    return links;
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

  /** Which shards' masters have a replica (and, under Sentinel, which the Sentinels confirm). */
  public ReplicaWatch replicas() {
    return replicas;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public Redis redis() {
    return redis;
  }

  /** This instance's event handling (the events stream's engine). */
  public StreamStats eventStats() {
    return eventStats;
  }

  /** This instance's deliveries to the outbound destinations (the outbound stream's engine). */
  public StreamStats outboundStats() {
    return outboundStats;
  }

  /** Which destinations an event goes to: this instance's and those live peers announce. */
  public FanOut fanOut() {
    return fanOut;
  }

  /** The unique name of this instance's consumers in every stream group. */
  public String instanceId() {
    return instanceId;
  }

  /** Records clicks; the public entry point for clicks not coming through the redirect. */
  public ClickRecorder clickRecorder() {
    return recorder;
  }

  public ClickCounter clickCounter() {
    return counter;
  }

  /** The analytics API's handler (its queries running, its refusals). */
  public AnalyticsHandler analyticsQueries() {
    return analyticsApi;
  }

  /** The Klaviyo sink, or {@code null} when it is disabled. */
  public KlaviyoSink klaviyo() {
    return klaviyo;
  }

  public Future<Void> close() {
    Future<Void> undeploy = (deploymentId == null ? Future.<Void>succeededFuture() : vertx.undeploy(deploymentId))
      .eventually(() -> managementDeploymentId == null ? Future.succeededFuture() : vertx.undeploy(managementDeploymentId));
    // The budget leaves its roster before its client closes: a stopped instance must not keep its share reserved.
    return undeploy.eventually(jobs::stop).eventually(this::stopBackground).eventually(budget::stop).eventually(() -> {
      if (secretFiles != null) {
        secretFiles.stop();
      }
      invalidation.stop();
      replicas.stop();
      Future<Void> sentinelsClosed = sentinels == null ? Future.succeededFuture() : sentinels.close();
      streams.stop();
      upstream.close();
      // Waited for, so that whoever closes Vert.x (or the private Redis) next finds every connection closed.
      Future<Void> replicasClosed = replicaReads == null ? Future.succeededFuture() : replicaReads.close();
      return Future.join(budgetRedis.close(), livenessRedis.close(), redis.close(), sentinelsClosed, replicasClosed)
        .<Void>mapEmpty().otherwiseEmpty();
    });
  }

  /**
   * When a Sentinel announces a new master, every client's shared connections move over at once: they look the master
   * up afresh, from the announcing Sentinel first ({@link SentinelEndpoints}). Twice more within 4 s, for what is
   * opened from a client that remembers the master for 1 s (the invalidation subscription) and in case the announcer
   * could not be asked.
   */
  private SentinelGroup followSwitches(SentinelGroup group) {
    // Each step moves the shared connections, puts this instance's recent permits back on whichever master they now
    // reach (the old master took some of them in the moment before the switch, and its resync will drop them), and
    // moves the invalidation subscription, which the old master would keep until it is demoted.
    Runnable renew = () -> {
      List.of(redis, budgetRedis, livenessRedis).forEach(r -> {
        if (r instanceof MultiplexedRedis m) {
          m.renewAll();
        }
      });
      budget.masterMoved();
      invalidation.resubscribe();
    };
    return group.onSwitch(() -> {
      renew.run();
      vertx.setTimer(SWITCH_RENEW_AGAIN_MS, t -> renew.run());
      vertx.setTimer(SWITCH_RENEW_LAST_MS, t -> renew.run());
    });
  }

  /** Engines first (each finishes what it holds), then the recorder writes out every click it holds. */
  private Future<Void> stopBackground() {
    if (shardsTimer >= 0) {
      vertx.cancelTimer(shardsTimer);
    }
    clickGate.stopSharing(vertx);
    profiles.stop();
    Future<Void> chain = Future.succeededFuture();
    for (int i = background.size() - 1; i >= 0; i--) {
      String id = background.get(i);
      chain = chain.eventually(() -> vertx.undeploy(id));
    }
    background.clear();
    // After the engines: no event can ask for another marking once it has been made.
    return chain.eventually(() -> eventRouter == null ? Future.succeededFuture() : eventRouter.stop()).eventually(() -> {
      destinations.close();
      directory.stop();
      return klaviyo == null ? Future.succeededFuture() : klaviyo.stop();
    });
  }
}
