package dev.biogate.sink;

import dev.biogate.analytics.ClickEvent;
import dev.biogate.config.KlaviyoOptions;
import dev.biogate.redis.RedisKeys;
import dev.biogate.upstream.Lane;
import dev.biogate.upstream.UpstreamBudget;
import dev.biogate.upstream.UpstreamException;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.circuitbreaker.RetryPolicy;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Delivers one event to Klaviyo: skipped if already delivered (a repeated stream entry), else one budget permit per
 * request (the shared 75/s limiter), then: 2xx → remembered as sent; 429 → everyone waits its {@code Retry-After},
 * not counted as a failure; 5xx/timeout → exponential backoff with jitter, up to {@code maxAttempts}, then the dead
 * letters; other 4xx → the dead letters at once (retrying cannot help); circuit open or 401/403 → kept (the entry
 * stays pending and is offered again). Failures are remembered across offers, so an event that keeps failing as the
 * breaker's half-open probe still ends in the dead letters instead of blocking the sink forever.
 */
final class KlaviyoDelivery {

  /** How a delivery ended; {@code KEPT} leaves the stream entry pending. */
  enum Done { DELIVERED, DUPLICATE, DEAD_LETTERED, KEPT }

  /** What the sink decides for all deliveries. */
  interface Control {
    /** Stopping or paused: start no request. */
    boolean halted();

    /** Klaviyo refused the key. */
    void refused(int status);

    /** A timer that ends early when the sink stops. */
    Future<Void> sleep(long ms);
  }

  private static final long TIMEOUT_MS = 2_000;

  private final KlaviyoOptions options;
  private final Redis redis;
  private final KlaviyoClient client;
  private final UpstreamBudget budget;
  private final KlaviyoDeadLetters deadLetters;
  private final SinkStats stats;
  private final Control control;
  private final Map<String, Integer> failures = new ConcurrentHashMap<>();

  KlaviyoDelivery(KlaviyoOptions options, Redis redis, KlaviyoClient client, UpstreamBudget budget,
                  KlaviyoDeadLetters deadLetters, SinkStats stats, Control control) {
    this.options = options;
    this.redis = redis;
    this.client = client;
    this.budget = budget;
    this.deadLetters = deadLetters;
    this.stats = stats;
    this.control = control;
  }

  /** Delivers a click, or the milestone {@code m} when it is not {@code null}. */
  Future<Done> deliver(ClickEvent e, String username, Milestone m) {
    Buffer body = m == null ? KlaviyoPayload.click(e, username, options.metric()) : KlaviyoPayload.milestone(e, username, m);
    return alreadySent(e.eventId()).compose(sent -> sent ? Future.succeededFuture(Done.DUPLICATE) : attempt(e, username, m, body));
  }

  private Future<Done> attempt(ClickEvent e, String username, Milestone m, Buffer body) {
    if (control.halted()) {
      return Future.succeededFuture(Done.KEPT);
    }
    return budget.acquire(Lane.FOREGROUND).transform(permit -> {
      if (permit.failed()) {
        long wait = permit.cause() instanceof UpstreamException ? ((UpstreamException) permit.cause()).retryAfterMs() : 100;
        return control.sleep(Math.max(1, wait)).compose(v -> attempt(e, username, m, body));
      }
      return client.sendEvent(body).onComplete(x -> permit.result().settle()).compose(r -> outcome(e, username, m, body, r));
    });
  }

  private Future<Done> outcome(ClickEvent e, String username, Milestone m, Buffer body, KlaviyoClient.Result r) {
    switch (r.kind()) {
      case SENT:
        failures.remove(e.eventId());
        stats.delivered.increment();
        return markSent(e.eventId()).map(Done.DELIVERED);
      case RATE_LIMITED:
        stats.rateLimited.increment();
        budget.backOff(r.retryAfterMs());
        return control.sleep(r.retryAfterMs()).compose(v -> attempt(e, username, m, body));
      case AUTH:
        control.refused(r.status());
        return Future.succeededFuture(Done.KEPT);
      case CIRCUIT_OPEN:
        return Future.succeededFuture(Done.KEPT);
      case REJECTED:
        return deadLetter(e, username, m, "rejected", r.status(), failures.getOrDefault(e.eventId(), 0) + 1);
      default:
        stats.faults.increment();
        int failed = failures.merge(e.eventId(), 1, Integer::sum);
        if (failed >= options.maxAttempts()) {
          return deadLetter(e, username, m, "exhausted", r.status(), failed);
        }
        if (client.breakerState() == CircuitBreakerState.OPEN) {
          return Future.succeededFuture(Done.KEPT);
        }
        return control.sleep(backoffMs(failed)).compose(v -> attempt(e, username, m, body));
    }
  }

  /** The project's one retry policy (exponential, full jitter): uniform in [0, min(max, base * 2^(n-1))). */
  long backoffMs(int failed) {
    return 1 + RetryPolicy.exponentialDelayWithJitter(options.retryBaseMs(), options.retryMaxMs()).delay(null, Math.min(failed - 1, 20));
  }

  private Future<Done> deadLetter(ClickEvent e, String username, Milestone m, String reason, int status, int attempts) {
    return deadLetters.add(e, username, m, reason, status, attempts, System.currentTimeMillis()).transform(ar -> {
      if (ar.failed()) {
        return Future.succeededFuture(Done.KEPT);
      }
      failures.remove(e.eventId());
      stats.deadLettered.increment();
      return Future.succeededFuture(Done.DEAD_LETTERED);
    });
  }

  private Future<Boolean> alreadySent(String eventId) {
    return redis.send(Request.cmd(Command.EXISTS).arg(RedisKeys.klaviyoSent(eventId)))
      .timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .map(r -> r != null && r.toInteger() == 1)
      .otherwise(false);
  }

  private Future<Void> markSent(String eventId) {
    return redis.send(Request.cmd(Command.SET).arg(RedisKeys.klaviyoSent(eventId)).arg("1").arg("EX").arg(options.sentTtlS()))
      .timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS).<Void>mapEmpty().otherwiseEmpty();
  }
}
