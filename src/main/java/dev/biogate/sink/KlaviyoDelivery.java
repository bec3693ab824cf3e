package dev.biogate.sink;

import dev.biogate.analytics.ClickEvent;
import dev.biogate.config.KlaviyoOptions;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.RedisTimeoutException;
import dev.biogate.stream.Outcome;
import dev.biogate.stream.StreamHandler;
import dev.biogate.upstream.Lane;
import dev.biogate.upstream.UpstreamBudget;
import dev.biogate.upstream.UpstreamException;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;


/**
 * One attempt to deliver one event to Klaviyo, ending in the stream engine's terms: already delivered (a repeated
 * entry) → DONE; else one budget permit (the shared limiter), then 2xx → remembered as sent, DONE; 429 → everyone
 * waits its {@code Retry-After}, KEEP (not a failure); 5xx/timeout → RETRY (the engine backs off with jitter and
 * dead-letters after {@code maxAttempts}); other 4xx → DEAD (retrying cannot help); circuit open, 401/403 or the
 * sink stopping → KEEP.
 */
final class KlaviyoDelivery {

  /** What the sink decides for all deliveries. */
  interface Control {
    /** Stopping or paused: start no request. */
    boolean halted();

    /** Klaviyo refused the key. */
    void refused(int status);
  }

  private static final long TIMEOUT_MS = 2_000;

  private final KlaviyoOptions options;
  private final Redis redis;
  private final KlaviyoClient client;
  private final UpstreamBudget budget;
  private final SinkStats stats;
  private final Control control;

  KlaviyoDelivery(KlaviyoOptions options, Redis redis, KlaviyoClient client, UpstreamBudget budget, SinkStats stats,
                  Control control) {
    this.options = options;
    this.redis = redis;
    this.client = client;
    this.budget = budget;
    this.stats = stats;
    this.control = control;
  }

  /**
   * Delivers a click, or the milestone {@code m} when it is not {@code null}, if {@code ownership} confirms the entry
   * is still this instance's right before the send (Redis cannot tell: kept; another instance has it: not sent).
   */
  Future<Outcome> deliver(ClickEvent e, String username, Milestone m, StreamHandler.Ownership ownership) {
    return alreadySent(e.eventId()).compose(sent -> {
      if (sent) {
        stats.duplicates.increment();
        return Future.succeededFuture(Outcome.done());
      }
      if (control.halted()) {
        return Future.succeededFuture(Outcome.keep());
      }
      // The breaker before the rate: a permit is spent only on a request that is made. Open, the event waits;
      // half-open, only the one probe takes a permit (the breaker refuses the others).
      Runnable done = client.gate().pass();
      if (done == null) {
        return Future.succeededFuture(Outcome.keep(Math.min(1_000, options.breakerResetMs())));
      }
      Buffer body = m == null ? KlaviyoPayload.click(e, username, options.metric()) : KlaviyoPayload.milestone(e, username, m);
      Future<Outcome> made = budget.acquire(Lane.FOREGROUND).transform(permit -> {
        if (permit.failed()) {
          long wait = permit.cause() instanceof UpstreamException ? ((UpstreamException) permit.cause()).retryAfterMs() : 100;
          return Future.succeededFuture(Outcome.keep(Math.max(1, wait)));
        }
        return ownership.confirm().transform(owned -> {
          if (owned.failed() || !owned.result()) {
            permit.result().settle(); // spent: the new owner sends, or this one later
            return Future.succeededFuture(owned.failed() ? Outcome.keep(1_000) : Outcome.keep());
          }
          return client.sendEvent(body).onComplete(x -> permit.result().settle()).compose(r -> outcome(e, r));
        });
      });
      return made.onComplete(ar -> done.run());
    });
  }

  private Future<Outcome> outcome(ClickEvent e, KlaviyoClient.Result r) {
    switch (r.kind()) {
      case SENT:
        stats.delivered.increment();
        return markSent(e.eventId()).map(Outcome.done());
      case RATE_LIMITED:
        stats.rateLimited.increment();
        budget.backOff(r.retryAfterMs());
        return Future.succeededFuture(Outcome.keep(r.retryAfterMs()));
      case AUTH:
        control.refused(r.status());
        return Future.succeededFuture(Outcome.keep());
      case CIRCUIT_OPEN:
        return Future.succeededFuture(Outcome.keep(Math.min(1_000, options.breakerResetMs())));
      case REJECTED:
        return Future.succeededFuture(Outcome.dead("rejected " + r.status()));
      default:
        stats.faults.increment();
        if (client.breakerState() != CircuitBreakerState.CLOSED) {
          // This failure opened the breaker (or a half-open probe failed): Klaviyo is down, which is no fault of this
          // event. Kept without spending an attempt, like the events the open breaker holds back; it used to spend its
          // attempts opening the breaker and be dead-lettered after a few seconds of outage.
          return Future.succeededFuture(Outcome.keep(Math.min(1_000, options.breakerResetMs())));
        }
        return Future.succeededFuture(Outcome.retry(r.status() > 0 ? "status " + r.status() : "unreachable"));
    }
  }

  private Future<Boolean> alreadySent(String eventId) {
    return RedisTimeoutException.within(redis.send(Request.cmd(Command.EXISTS).arg(RedisKeys.klaviyoSent(eventId))), TIMEOUT_MS)
      .map(r -> r != null && r.toInteger() == 1)
      .otherwise(false);
  }

  private Future<Void> markSent(String eventId) {
    return RedisTimeoutException.within(redis.send(Request.cmd(Command.SET).arg(RedisKeys.klaviyoSent(eventId)).arg("1")
      .arg("EX").arg(options.sentTtlS())), TIMEOUT_MS).<Void>mapEmpty().otherwiseEmpty();
  }
}
