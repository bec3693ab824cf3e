package dev.biogate.sink;

import dev.biogate.analytics.ClickEvent;
import dev.biogate.analytics.StreamGroupReader;
import dev.biogate.analytics.StreamRecord;
import dev.biogate.config.KlaviyoOptions;
import dev.biogate.http.Usernames;
import dev.biogate.profile.ProfileService;
import dev.biogate.redis.RedisKeys;
import dev.biogate.upstream.LaneShares;
import dev.biogate.upstream.RedisBudget;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Sends click events to Klaviyo as "Link Clicked" events. It reads the clicks stream through its own
 * consumer group ({@code klaviyo}), plus its retry stream (replayed dead letters), so delivery is durable and
 * at-least-once, and Klaviyo dedupes on {@code unique_id} = the click's event id. Requests are paced cluster-wide by
 * the shared Redis limiter (budget {@code klaviyo}, {@code ratePerSec} per second); see {@link KlaviyoDelivery} for
 * 429s, retries, the breaker and the dead letters.
 *
 * <p>A 401/403 is a key problem, not an outage: it is logged once, the sink pauses (no retry storm: events stay
 * pending in the stream, nothing new is read) and checks the key with one {@code GET /api/accounts/} every
 * {@code authProbeMs}, resuming by itself once the key works (or at once after an admin replay).
 */
public final class KlaviyoSink implements StreamGroupReader.Handler, KlaviyoDelivery.Control {

  private final Vertx vertx;
  private final KlaviyoOptions options;
  private final ProfileService profiles;
  private final KlaviyoClient client;
  private final RedisBudget budget;
  private final KlaviyoDeadLetters deadLetters;
  private final KlaviyoDelivery delivery;
  private final SinkStats stats = new SinkStats();
  private final List<StreamGroupReader> readers;
  private final Promise<Void> stopSignal = Promise.promise();
  private final KeyPause pause;

  public KlaviyoSink(Vertx vertx, KlaviyoOptions options, Redis redis, ProfileService profiles, String consumer,
                     StreamGroupReader.Settings reading) {
    this.vertx = vertx;
    this.options = options;
    this.profiles = profiles;
    this.client = new KlaviyoClient(vertx, options);
    this.pause = new KeyPause(options.authProbeMs(), client::checkAccount);
    this.budget = new RedisBudget(vertx, redis, "klaviyo", options.ratePerSec(), 1000, options.requestTimeoutMs(), new LaneShares(0, 0));
    this.deadLetters = new KlaviyoDeadLetters(redis);
    this.delivery = new KlaviyoDelivery(options, redis, client, budget, deadLetters, stats, this);
    StreamGroupReader.Settings batch = new StreamGroupReader.Settings(options.concurrency(), reading.pollMs(),
      reading.claimIdleMs(), reading.claimIntervalMs());
    this.readers = List.of(
      new StreamGroupReader(vertx, redis, RedisKeys.CLICKS_STREAM, RedisKeys.KLAVIYO_GROUP, consumer, batch, this),
      new StreamGroupReader(vertx, redis, RedisKeys.KLAVIYO_RETRY, RedisKeys.KLAVIYO_GROUP, consumer, batch, this));
  }

  /** Starts reading; call on the analytics context. */
  public void start() {
    budget.start(1_000);
    readers.forEach(StreamGroupReader::start);
  }

  public Future<Void> stop() {
    stopSignal.tryComplete();
    List<Future<Void>> stopping = new ArrayList<>();
    readers.forEach(r -> stopping.add(r.stop()));
    return Future.join(stopping).<Void>mapEmpty().eventually(() -> {
      budget.stop();
      client.close();
      return Future.succeededFuture();
    });
  }

  @Override
  public Future<Collection<String>> handle(List<StreamRecord> records) {
    if (pause.paused()) {
      return pause.probe().map(List.of());
    }
    List<Future<String>> each = new ArrayList<>(records.size());
    Set<String> batch = new HashSet<>();
    for (StreamRecord r : records) {
      String eventId = r.fields().get("event_id");
      if (eventId != null && !batch.add(eventId)) {
        // The same event twice in one batch (a journal replayed over a timed-out write): the first copy stands for both.
        stats.duplicates.increment();
        each.add(Future.succeededFuture(r.id()));
      } else {
        each.add(one(r));
      }
    }
    return Future.join(each).transform(ar -> {
      List<String> done = new ArrayList<>(each.size());
      each.forEach(f -> {
        if (f.succeeded() && f.result() != null) {
          done.add(f.result());
        }
      });
      return Future.succeededFuture(done);
    });
  }

  /** The entry id when the entry is finished with (delivered, deduplicated, dead-lettered, skipped), else null. */
  private Future<String> one(StreamRecord r) {
    ClickEvent e = ClickEvent.fromFields(r.fields(), r.addedAtMs());
    if (e == null) {
      stats.dropped.increment();
      return Future.succeededFuture(r.id());
    }
    String named = Usernames.normalize(e.username());
    Future<String> owner = named != null ? Future.succeededFuture(named) : profiles.ownerOfLink(e.linkId());
    return owner.compose(username -> {
      if (Usernames.normalize(username) == null) {
        stats.unattributed.increment();
        return Future.succeededFuture(r.id());
      }
      return delivery.deliver(e, Usernames.normalize(username), Milestone.of(r.fields())).map(done -> {
        if (done == KlaviyoDelivery.Done.DUPLICATE) {
          stats.duplicates.increment();
        }
        return done == KlaviyoDelivery.Done.KEPT ? null : r.id();
      });
    });
  }

  @Override
  public long retryDelayMs() {
    return pause.paused() ? pause.untilProbeMs() : Math.min(1_000, options.breakerResetMs());
  }

  @Override
  public boolean halted() {
    return pause.paused() || stopSignal.future().isComplete();
  }

  @Override
  public void refused(int status) {
    pause.refused(status);
  }

  @Override
  public Future<Void> sleep(long ms) {
    return Future.any(vertx.timer(ms), stopSignal.future()).mapEmpty();
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

  /** One key check against Klaviyo ({@code GET /api/accounts/}), completing with its HTTP status: for preflight. */
  public Future<Integer> checkKey() {
    return client.checkAccount();
  }

  public SinkStats stats() { return stats; }
  /** Paused because Klaviyo refused the key. */
  public boolean paused() { return pause.paused(); }
  public CircuitBreakerState breakerState() { return client.breakerState(); }
}
