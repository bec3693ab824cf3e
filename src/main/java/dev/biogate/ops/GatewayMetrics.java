package dev.biogate.ops;

import dev.biogate.analytics.AnalyticsHandler;
import dev.biogate.analytics.ClickCounter;
import dev.biogate.analytics.ClickRecorder;
import dev.biogate.stream.StreamStats;
import dev.biogate.sink.KlaviyoSink;
import dev.biogate.sink.SinkStats;
import dev.biogate.profile.CacheStats;
import dev.biogate.analytics.RedirectHandler;
import dev.biogate.profile.LinksHandler;
import dev.biogate.webhook.WebhookRoutes;
import dev.biogate.webhook.WebhookStats;
import dev.biogate.profile.ProfileCache;
import dev.biogate.profile.ProfileSanitizer;
import dev.biogate.upstream.Lane;
import dev.biogate.upstream.LaneUsage;
import dev.biogate.upstream.LinktreeClient;
import dev.biogate.upstream.MissAdmission;
import dev.biogate.upstream.RedisBudget;
import dev.biogate.http.ConnectionLimits;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.circuitbreaker.CircuitBreakerState;

import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The gateway's own meters, read from the components when Prometheus scrapes (nothing is recorded per hit beyond a
 * {@code LongAdder} increment). Names follow Prometheus conventions once rendered: {@code biogate_*_total} counters,
 * {@code _seconds} units, no unbounded labels.
 */
public final class GatewayMetrics {

  private GatewayMetrics() {
  }

  public static void bind(MeterRegistry r, CacheStats reads, ProfileCache l1, RedisBudget budget, LinktreeClient upstream) {
    read(r, reads, "hit", CacheStats::hits);
    read(r, reads, "shared_hit", CacheStats::sharedHits);
    read(r, reads, "stale", CacheStats::stale);
    read(r, reads, "stale_if_error", CacheStats::staleIfError);
    read(r, reads, "miss", CacheStats::misses);
    read(r, reads, "unavailable", CacheStats::unavailable);
    Gauge.builder("biogate.profile.l1.entries", l1, ProfileCache::size).description("Profiles held in this instance's L1").register(r);
    FunctionCounter.builder("biogate.profile.links.dropped", ProfileSanitizer.class, c -> ProfileSanitizer.droppedLinks())
      .description("Links dropped because their URL scheme was unsafe (javascript:, data:, ...)").register(r);

    Gauge.builder("biogate.upstream.budget.limit", budget, RedisBudget::limit)
      .description("Upstream calls allowed per budget window, cluster-wide").register(r);
    Gauge.builder("biogate.upstream.budget.used", budget, RedisBudget::used)
      .description("Upstream calls made in the current budget window, cluster-wide (NaN while the shared budget is unreachable)").register(r);
    Gauge.builder("biogate.upstream.budget.local.limit", budget, RedisBudget::localLimit)
      .description("Upstream calls per window this instance allows itself while the shared budget is unreachable (0 otherwise)").register(r);
    Gauge.builder("biogate.upstream.budget.local.used", budget, RedisBudget::localUsed)
      .description("Upstream calls this instance made in its local window while the shared budget is unreachable (0 otherwise)").register(r);
    Gauge.builder("biogate.upstream.budget.degraded", budget, b -> b.isDegraded() ? 1 : 0)
      .description("1 while Redis is unreachable and this instance limits itself to its local share").register(r);
    Gauge.builder("biogate.upstream.backoff.seconds", budget, b -> b.blockedForMs() / 1000.0)
      .description("Time left before calling the upstream again after a 429").register(r);
    Gauge.builder("biogate.upstream.ratelimit.remaining", budget, RedisBudget::upstreamRemaining)
      .description("X-RateLimit-Remaining last reported by the upstream (-1 before the first call)").register(r);
    Gauge.builder("biogate.upstream.circuit.state", upstream, u -> state(u.breakerState()))
      .description("Upstream circuit breaker: 0 closed, 1 half-open, 2 open").register(r);
  }

  /**
   * Upstream permits by lane and result (a refusal is a 503 or a stale answer for the reader), and how misses were
   * admitted: known names, first sight (never-seen names, on a client's quota) and quota refusals (429).
   */
  public static void bindAdmission(MeterRegistry r, LaneUsage lanes, MissAdmission admission) {
    for (Lane lane : Lane.values()) {
      String name = lane.name().toLowerCase(Locale.ROOT);
      for (boolean granted : new boolean[] {true, false}) {
        FunctionCounter.builder("biogate.upstream.permits", lanes, u -> u.permits(lane, granted))
          .tags("lane", name, "result", granted ? "granted" : "denied")
          .description("Upstream budget permits asked by this instance, by lane and result").register(r);
      }
    }
    for (MissAdmission.Result result : MissAdmission.Result.values()) {
      FunctionCounter.builder("biogate.upstream.miss.admissions", admission, a -> a.count(result))
        .tag("result", result.name().toLowerCase(Locale.ROOT))
        .description("Profile misses by admission: allow_listed, known, first_sight, quota_exceeded (429)").register(r);
    }
  }

  /** The client listener's open connections, its ceiling, and the connections refused at a full ceiling. */
  public static void bindConnections(MeterRegistry r, ConnectionLimits connections) {
    Gauge.builder("biogate.http.connections.open", connections, ConnectionLimits::open)
      .description("Connections open on the client listener").register(r);
    Gauge.builder("biogate.http.connections.max", connections, ConnectionLimits::max)
      .description("Connections the client listener holds at most (http.maxConnections)").register(r);
    FunctionCounter.builder("biogate.http.connections.refused", connections, ConnectionLimits::refused)
      .description("Connections refused because a connection ceiling was reached (answered 503, or closed before a TLS handshake)").register(r);
    FunctionCounter.builder("biogate.http.connections.evicted", connections, ConnectionLimits::evicted)
      .description("Idle or stalled connections closed to admit a new one at the client listener's ceiling").register(r);
  }

  /** Webhook deliveries by provider and result; the label values are a closed set. */
  public static void bindWebhooks(MeterRegistry r, WebhookStats stats) {
    for (String provider : WebhookStats.PROVIDERS) {
      for (String result : WebhookStats.RESULTS) {
        FunctionCounter.builder("biogate.webhook.deliveries", stats, s -> s.count(provider, result))
          .tags("provider", provider, "result", result).description("Webhook deliveries by how they were answered").register(r);
      }
    }
  }

  /** The webhook body budget: bytes held by bodies arriving, the budget, and bodies taken back for others. */
  public static void bindWebhookBodies(MeterRegistry r, WebhookRoutes routes) {
    Gauge.builder("biogate.webhook.bodies.held", routes, WebhookRoutes::bodyBytesHeld).baseUnit("bytes")
      .description("Bytes of webhook bodies held while they arrive").register(r);
    Gauge.builder("biogate.webhook.bodies.budget", routes, WebhookRoutes::bodyBudget).baseUnit("bytes")
      .description("Bytes of webhook bodies held at most at once (webhooks.maxBufferedBytes)").register(r);
    FunctionCounter.builder("biogate.webhook.bodies.evicted", routes, WebhookRoutes::bodiesEvicted)
      .description("Webhook bodies arriving for over a second refused (503) to make room for other deliveries").register(r);
  }

  /** What the colder paths keep of cached copies, each half of {@code cache.derivedMaxBytes}. */
  public static void bindDerived(MeterRegistry r, LinksHandler links, RedirectHandler redirect) {
    Gauge.builder("biogate.cache.links.held", links, LinksHandler::treeBytesHeld).baseUnit("bytes")
      .description("Heap held by the decoded links of cached copies the links route pages (half of cache.derivedMaxBytes)").register(r);
    Gauge.builder("biogate.cache.redirects.held", redirect, RedirectHandler::targetBytesHeld).baseUnit("bytes")
      .description("Heap held by the redirect targets of cached copies (half of cache.derivedMaxBytes)").register(r);
  }

  /** Event handling on this instance. */
  public static void bindEvents(MeterRegistry r, StreamStats stats) {
    FunctionCounter.builder("biogate.events.handled", stats, StreamStats::handled).description("Events handled successfully").register(r);
    FunctionCounter.builder("biogate.events.failed.attempts", stats, StreamStats::failedAttempts).description("Failed handling attempts").register(r);
    FunctionCounter.builder("biogate.events.dead.lettered", stats, StreamStats::deadLettered).description("Events moved to dead letters").register(r);
    FunctionCounter.builder("biogate.events.reclaimed", stats, StreamStats::claimed).description("Pending events taken over from a dead instance").register(r);
  }

  /** One stream engine (stream and group as tags): every outcome, take-overs, trims and entries found lost. */
  public static void bindStream(MeterRegistry r, String stream, String group, StreamStats s) {
    stream(r, stream, group, s, "handled", StreamStats::handled);
    stream(r, stream, group, s, "failed_attempt", StreamStats::failedAttempts);
    stream(r, stream, group, s, "dead_lettered", StreamStats::deadLettered);
    stream(r, stream, group, s, "dead_letters_full", StreamStats::deadLettersFull);
    stream(r, stream, group, s, "kept", StreamStats::kept);
    stream(r, stream, group, s, "set_aside", StreamStats::setAside);
    stream(r, stream, group, s, "parked", StreamStats::parked);
    stream(r, stream, group, s, "claimed", StreamStats::claimed);
    stream(r, stream, group, s, "trimmed", StreamStats::trimmed);
    stream(r, stream, group, s, "consumer_removed", StreamStats::retiredConsumers);
    FunctionCounter.builder("biogate.stream.lost", s, StreamStats::lost).tags("stream", stream, "group", group)
      .description("Pending entries found deleted from the stream before they were handled (each is logged)").register(r);
  }

  private static void stream(MeterRegistry r, String stream, String group, StreamStats s, String result, ToDoubleFunction<StreamStats> f) {
    FunctionCounter.builder("biogate.stream.entries", s, f).tags("stream", stream, "group", group, "result", result)
      .description("Stream entries by what the engine did with them").register(r);
  }

  /** Click recording, the local journal, counting, and the Klaviyo sink when it is enabled ({@code null} if not). */
  public static void bindAnalytics(MeterRegistry r, ClickRecorder rec, ClickCounter c, KlaviyoSink sink) {
    Gauge.builder("biogate.clicks.journal.depth", rec, ClickRecorder::journalDepth)
      .description("Click events held in the local journal, waiting for Redis").register(r);
    Gauge.builder("biogate.clicks.queued", rec, ClickRecorder::queued).description("Click events queued in memory").register(r);
    FunctionCounter.builder("biogate.clicks.recorded", rec, ClickRecorder::recorded).description("Click events written to the stream").register(r);
    FunctionCounter.builder("biogate.clicks.journaled", rec, ClickRecorder::journaled).description("Click events written to the local journal").register(r);
    FunctionCounter.builder("biogate.clicks.replayed", rec, ClickRecorder::replayed).description("Journaled click events replayed to the stream").register(r);
    counted(r, c, "counted", ClickCounter::counted);
    counted(r, c, "repeat", ClickCounter::repeats);
    counted(r, c, "unattributed", ClickCounter::unattributed);
    counted(r, c, "dropped", ClickCounter::dropped);
    if (sink == null) {
      return;
    }
    SinkStats st = sink.stats();
    sink(r, st, "delivered", SinkStats::delivered);
    sink(r, st, "duplicate", SinkStats::duplicates);
    sink(r, st, "rate_limited", SinkStats::rateLimited);
    sink(r, st, "error", SinkStats::faults);
    // Not sent: no creator could be found for the event's link, or the entry could not be read as an event.
    sink(r, st, "unattributed", SinkStats::unattributed);
    sink(r, st, "dropped", SinkStats::dropped);
    Gauge.builder("biogate.sink.paused", sink, k -> k.paused() ? 1 : 0).tag("sink", "klaviyo")
      .description("1 while the sink is paused because the provider refused its key (401/403)").register(r);
    Gauge.builder("biogate.sink.circuit.state", sink, k -> state(k.breakerState())).tag("sink", "klaviyo")
      .description("Sink circuit breaker: 0 closed, 1 half-open, 2 open").register(r);
  }

  /**
   * Analytics queries answered 503, by reason ({@code timeout}: past the query budget; {@code unavailable}: Redis failed;
   * {@code busy}: {@code analytics.maxQueries} running), and those running.
   */
  public static void bindAnalyticsQueries(MeterRegistry r, AnalyticsHandler queries) {
    FunctionCounter.builder("biogate.analytics.queries.refused", queries, AnalyticsHandler::refusedTimeout).tag("reason", "timeout")
      .description("Analytics queries answered 503, by reason").register(r);
    FunctionCounter.builder("biogate.analytics.queries.refused", queries, AnalyticsHandler::refusedUnavailable).tag("reason", "unavailable")
      .description("Analytics queries answered 503, by reason").register(r);
    FunctionCounter.builder("biogate.analytics.queries.refused", queries, AnalyticsHandler::refusedBusy).tag("reason", "busy")
      .description("Analytics queries answered 503, by reason").register(r);
    Gauge.builder("biogate.analytics.queries.running", queries, AnalyticsHandler::running)
      .description("Analytics queries running on this instance (at most analytics.maxQueries)").register(r);
  }

  private static void counted(MeterRegistry r, ClickCounter c, String result, ToDoubleFunction<ClickCounter> f) {
    FunctionCounter.builder("biogate.clicks.counted", c, f).tag("result", result).description("Click events taken off the stream by result").register(r);
  }

  private static void sink(MeterRegistry r, SinkStats s, String result, ToDoubleFunction<SinkStats> f) {
    FunctionCounter.builder("biogate.sink.deliveries", s, f).tags("sink", "klaviyo", "result", result)
      .description("Events sent to the sink by outcome").register(r);
  }

  private static void read(MeterRegistry r, CacheStats reads, String result, ToDoubleFunction<CacheStats> f) {
    FunctionCounter.builder("biogate.profile.reads", reads, f).tag("result", result)
      .description("Profile reads by how they were answered").register(r);
  }

  private static double state(CircuitBreakerState s) {
    return s == CircuitBreakerState.CLOSED ? 0 : s == CircuitBreakerState.HALF_OPEN ? 1 : 2;
  }
}
