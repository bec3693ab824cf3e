package dev.biogate.ops;

import dev.biogate.redis.RedisKeys;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.concurrent.TimeUnit;

/**
 * Samples the event streams every few seconds (never per request): how many webhook events wait, how old the
 * oldest is (the processing lag), how many sit in the dead-letter stream, and the click stream's backlog. Entries
 * are deleted once handled, so the oldest entry left is the oldest unfinished one. Each stream's backlog is also
 * reported next to its ceiling ({@code biogate.stream.backlog} / {@code biogate.stream.ceiling}, tag {@code stream}),
 * where ingestion starts pushing back: webhooks answered 503, clicks journaled locally.
 */
public final class StreamGauges {

  private static final long PERIOD_MS = 5_000;

  private final Vertx vertx;
  private final Redis redis;
  private volatile double eventsBacklog;
  private volatile double eventsLagSeconds;
  private volatile double deadLetters;
  private volatile double clicksBacklog;
  private long timer = -1;

  public StreamGauges(Vertx vertx, Redis redis, MeterRegistry registry, long eventsCeiling, long clicksCeiling) {
    this.vertx = vertx;
    this.redis = redis;
    Gauge.builder("biogate.stream.backlog", this, g -> g.eventsBacklog).tag("stream", "events")
      .description("Entries in the stream not yet finished by every consumer group").register(registry);
    Gauge.builder("biogate.stream.ceiling", () -> eventsCeiling).tag("stream", "events")
      .description("Backlog at which ingestion pushes back instead of queueing").register(registry);
    Gauge.builder("biogate.stream.backlog", this, g -> g.clicksBacklog).tag("stream", "clicks")
      .description("Entries in the stream not yet finished by every consumer group").register(registry);
    Gauge.builder("biogate.stream.ceiling", () -> clicksCeiling).tag("stream", "clicks")
      .description("Backlog at which ingestion pushes back instead of queueing").register(registry);
    Gauge.builder("biogate.events.backlog", this, g -> g.eventsBacklog)
      .description("Webhook events queued or being handled").register(registry);
    Gauge.builder("biogate.events.lag.seconds", this, g -> g.eventsLagSeconds)
      .description("Age of the oldest unfinished webhook event").register(registry);
    Gauge.builder("biogate.events.dead.letters", this, g -> g.deadLetters)
      .description("Events in the dead-letter stream, waiting for replay").register(registry);
    Gauge.builder("biogate.clicks.stream.length", this, g -> g.clicksBacklog)
      .description("Click events in the click stream").register(registry);
  }

  public void start() {
    timer = vertx.setPeriodic(0, PERIOD_MS, id -> sample());
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  private void sample() {
    long now = System.currentTimeMillis();
    len(RedisKeys.EVENTS_STREAM).onSuccess(n -> eventsBacklog = n);
    len(RedisKeys.DEAD_LETTERS).onSuccess(n -> deadLetters = n);
    len(RedisKeys.CLICKS_STREAM).onSuccess(n -> clicksBacklog = n);
    redis.send(Request.cmd(Command.XRANGE).arg(RedisKeys.EVENTS_STREAM).arg("-").arg("+").arg("COUNT").arg(1))
      .timeout(2, TimeUnit.SECONDS)
      .onSuccess(r -> eventsLagSeconds = r == null || r.size() == 0 ? 0 : Math.max(0, now - idMillis(r.get(0).get(0))) / 1000.0);
  }

  private Future<Long> len(String key) {
    return redis.send(Request.cmd(Command.XLEN).arg(key)).timeout(2, TimeUnit.SECONDS).map(r -> r == null ? 0L : r.toLong());
  }

  /** Stream ids are {@code <ms>-<seq>}. */
  private static long idMillis(Response id) {
    String s = id.toString();
    int dash = s.indexOf('-');
    return Long.parseLong(dash < 0 ? s : s.substring(0, dash));
  }
}
