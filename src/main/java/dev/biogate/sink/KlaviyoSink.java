package dev.biogate.sink;

import dev.biogate.analytics.ClickEvent;
import dev.biogate.config.KlaviyoOptions;
import dev.biogate.http.Usernames;
import dev.biogate.profile.ProfileService;
import dev.biogate.redis.RedisKeys;
import dev.biogate.stream.Outcome;
import dev.biogate.stream.StreamEntry;
import dev.biogate.stream.StreamHandler;
import dev.biogate.stream.StreamPolicy;
import dev.biogate.upstream.LaneShares;
import dev.biogate.upstream.RedisBudget;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;

import java.util.ArrayList;
import java.util.List;

/**
 * Sends click events to Klaviyo as "Link Clicked" events (contract 4.3). The handler of two streams read through its
 * own consumer group ({@code klaviyo}): the clicks stream and its retry stream (replayed dead letters), so delivery
 * is durable and at-least-once, and Klaviyo dedupes on {@code unique_id} = the click's event id. Requests are paced
 * cluster-wide by the shared Redis limiter (budget {@code klaviyo}, {@code ratePerSec} per second); see
 * {@link KlaviyoDelivery} for how each answer ends an attempt.
 *
 * <p>A 401/403 is a key problem, not an outage: it is logged once, the sink pauses (no retry storm: events are kept
 * pending, and another instance whose key works takes them over) and checks the key with one
 * {@code GET /api/accounts/} every {@code authProbeMs}, resuming by itself once the key works (or at once after an
 * admin replay).
 */
public final class KlaviyoSink implements StreamHandler, KlaviyoDelivery.Control {

  private final KlaviyoOptions options;
  private final ProfileService profiles;
  private final KlaviyoClient client;
  private final RedisBudget budget;
  private final KlaviyoDeadLetters deadLetters;
  private final KlaviyoDelivery delivery;
  private final SinkStats stats = new SinkStats();
  private final KeyPause pause;
  private volatile boolean stopped;
  private final int shards;

  public KlaviyoSink(Vertx vertx, KlaviyoOptions options, Redis redis, ProfileService profiles, int shards,
                     dev.biogate.redis.ReplicaWatch replicas, long replicaWaitMs) {
    this.shards = shards;
    this.options = options;
    this.profiles = profiles;
    this.client = new KlaviyoClient(vertx, options);
    this.pause = new KeyPause(options.authProbeMs(), client::checkAccount);
    this.budget = new RedisBudget(vertx, redis, "klaviyo", options.ratePerSec(), 1000, options.requestTimeoutMs(), new LaneShares(0, 0));
    this.deadLetters = new KlaviyoDeadLetters(redis, shards, replicas, replicaWaitMs);
    this.delivery = new KlaviyoDelivery(options, redis, client, budget, stats, this);
  }

  /**
   * How the engines read the sink's streams: every clicks shard and the retry stream, all through the
   * {@code klaviyo} group, {@code concurrency} events at a time each, the sink's retry settings; a dead-letter stream
   * per shard (it must share the shard's slot) and one for the retry stream.
   */
  public List<StreamPolicy> policies() {
    List<StreamPolicy> all = new ArrayList<>(shards + 1);
    for (int s = 0; s < shards; s++) {
      all.add(policy(RedisKeys.clicksShard(s), RedisKeys.klaviyoDlqShard(s)));
    }
    all.add(policy(RedisKeys.KLAVIYO_RETRY, RedisKeys.KLAVIYO_DLQ));
    return all;
  }

  private StreamPolicy policy(String stream, String dead) {
    return new StreamPolicy(stream, RedisKeys.KLAVIYO_GROUP).maxHeld(options.concurrency()).maxAttempts(options.maxAttempts())
      .retry(options.retryBaseMs(), options.retryMaxMs()).keepDelayMs(Math.min(1_000, options.breakerResetMs()))
      .deadLetters(dead, KlaviyoDeadLetters.MAX_LEN);
  }

  public void start() {
    budget.start(1_000);
  }

  /** Call after the engines reading for the sink have stopped. */
  public Future<Void> stop() {
    stopped = true;
    // Leave the shared budget before the gateway closes the Redis client, or the share stays reserved.
    return budget.stop().eventually(() -> {
      client.close();
      return Future.succeededFuture();
    });
  }

  @Override
  public Future<Outcome> handle(StreamEntry r) {
    return handle(r, () -> Future.succeededFuture(true));
  }

  /**
   * Ownership is confirmed right before the send, as destinations do: an entry kept (breaker open, rate spent) was
   * left idle, and another instance may have taken it over; both then sent it at the same moment (15 events in a fault
   * drill; Klaviyo drops the second by its {@code unique_id}, but it spent the shared rate twice).
   */
  @Override
  public Future<Outcome> handle(StreamEntry r, Ownership ownership) {
    if (pause.paused()) {
      return pause.probe().map(v -> pause.paused() ? Outcome.keep(pause.untilProbeMs()) : Outcome.keep(0));
    }
    ClickEvent e = ClickEvent.fromFields(r.fields(), r.addedAtMs());
    if (e == null) {
      stats.dropped.increment();
      return Future.succeededFuture(Outcome.done());
    }
    String named = Usernames.normalize(e.username());
    Future<String> owner = named != null ? Future.succeededFuture(named) : profiles.ownerOfLink(e.linkId());
    return owner.compose(username -> {
      if (Usernames.normalize(username) == null) {
        // A LinkMe click of a link no cached profile holds: the LinkMe app stands in as the profile.
        String profile = r.get("profile");
        if (profile != null && ClickEvent.usableId(profile)) {
          return delivery.deliver(e, profile, Milestone.of(r.fields()), ownership);
        }
        stats.unattributed.increment();
        return Future.succeededFuture(Outcome.done());
      }
      return delivery.deliver(e, Usernames.normalize(username), Milestone.of(r.fields()), ownership);
    });
  }

  @Override
  public boolean halted() {
    return pause.paused() || stopped;
  }

  @Override
  public void refused(int status) {
    pause.refused(status);
  }

  /** Moves up to {@code limit} dead letters back to delivery, and re-checks the key at once if paused. */
  public Future<Integer> replayDeadLetters(int limit) {
    pause.probeSoon();
    return deadLetters.replay(limit);
  }

  public Future<Long> deadLetterCount() {
    return deadLetters.size();
  }

  /**
   * The sink as {@code /health} should report it, without calling Klaviyo: {@code down} while paused on a refused
   * key or with the breaker open, {@code degraded} while half-open or backing off after a 429, else {@code healthy}.
   */
  public String status() {
    CircuitBreakerState breaker = client.breakerState();
    if (pause.paused() || breaker == CircuitBreakerState.OPEN) {
      return "down";
    }
    return breaker == CircuitBreakerState.HALF_OPEN || budget.blockedForMs() > 0 ? "degraded" : "healthy";
  }

  /** How long the latest request to Klaviyo took, in milliseconds (0 before the first): {@code /health} reports it. */
  public long lastLatencyMs() {
    return client.lastLatencyMs();
  }

  /** One key check against Klaviyo ({@code GET /api/accounts/}), completing with its HTTP status: for preflight. */
  public Future<Integer> checkKey() {
    return client.checkAccount();
  }

  public SinkStats stats() { return stats; }
  /** Paused because Klaviyo refused the key. */
  public boolean paused() { return pause.paused(); }
  public CircuitBreakerState breakerState() { return client.breakerState(); }
}
