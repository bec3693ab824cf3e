package dev.biogate.ops;

import dev.biogate.destination.OutboundKeys;
import dev.biogate.redis.RedisKeys;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.ToDoubleFunction;

/**
 * Samples the event streams every few seconds (never per request): how many webhook events wait, how old the
 * oldest is (the processing lag), how many sit in the dead-letter stream, the click stream's backlog, and the same
 * backlog and lag for the outbound stream (deliveries to destinations). Events and outbound entries are deleted once
 * handled, so the oldest entry left is the oldest unfinished one. Each stream's backlog is also reported next to its
 * ceiling ({@code biogate.stream.backlog} / {@code biogate.stream.ceiling}, tag {@code stream}), where ingestion starts
 * pushing back: webhooks answered 503, clicks journaled locally, events held on the events stream instead of fanned
 * out. The outbound stream is one key ({@code {out}} tag, one slot on Cluster): two commands per sample, as one shard
 * of the events stream costs; a destination that cannot keep up used to queue there with no gauge showing it.
 */
public final class StreamGauges {

  private static final long PERIOD_MS = 5_000;

  private final Vertx vertx;
  private final Redis redis;
  private volatile double eventsBacklog;
  private volatile double eventsLagSeconds;
  private volatile double deadLetters;
  private volatile double clicksBacklog;
  private volatile double outboundBacklog;
  private volatile double outboundLagSeconds;
  private volatile double eventsFullest;
  private volatile double clicksFullest;
  private final long eventsShardCeiling;
  private final long clicksShardCeiling;
  private final long outboundCeiling;
  private final int shards;
  private long timer = -1;

  /**
   * Backlogs are summed over the {@code shards} streams of each kind; the ceilings are the deployment-wide ones
   * ({@code outboundCeiling}: {@code destinations.streamMaxLen}).
   */
  public StreamGauges(Vertx vertx, Redis redis, MeterRegistry registry, int shards, long eventsCeiling, long clicksCeiling,
                      long outboundCeiling) {
    this.vertx = vertx;
    this.redis = redis;
    this.shards = shards;
    this.eventsShardCeiling = Math.max(1, eventsCeiling / shards);
    this.clicksShardCeiling = Math.max(1, clicksCeiling / shards);
    this.outboundCeiling = Math.max(1, outboundCeiling);
    backlog(registry, "events", g -> g.eventsBacklog, eventsCeiling, g -> g.eventsFullest);
    backlog(registry, "clicks", g -> g.clicksBacklog, clicksCeiling, g -> g.clicksFullest);
    backlog(registry, "outbound", g -> g.outboundBacklog, outboundCeiling, g -> g.outboundBacklog / g.outboundCeiling);
    Gauge.builder("biogate.events.backlog", this, g -> g.eventsBacklog)
      .description("Webhook events queued or being handled").register(registry);
    Gauge.builder("biogate.events.lag.seconds", this, g -> g.eventsLagSeconds)
      .description("Age of the oldest unfinished webhook event").register(registry);
    Gauge.builder("biogate.events.dead.letters", this, g -> g.deadLetters)
      .description("Events in the dead-letter stream, waiting for replay").register(registry);
    Gauge.builder("biogate.clicks.stream.length", this, g -> g.clicksBacklog)
      .description("Click events in the click stream").register(registry);
    Gauge.builder("biogate.outbound.lag.seconds", this, g -> g.outboundLagSeconds)
      .description("Age of the oldest delivery to a destination not yet made").register(registry);
  }

  /**
   * A stream's backlog, its ceiling, and its fullest shard's fill: each shard refuses at its share of the ceiling, so
   * one shard can push back while the whole stream is far below its ceiling (every Klaviyo batch lands on events shard
   * 0: at 16 shards its senders got 503 backlog_full with the stream at 6 % of its ceiling, no gauge or alert showing it).
   */
  private void backlog(MeterRegistry registry, String stream, ToDoubleFunction<StreamGauges> value, long ceiling,
                       ToDoubleFunction<StreamGauges> fullest) {
    Gauge.builder("biogate.stream.backlog", this, value).tag("stream", stream)
      .description("Entries in the stream not yet finished by every consumer group").register(registry);
    Gauge.builder("biogate.stream.ceiling", () -> ceiling).tag("stream", stream)
      .description("Backlog at which ingestion pushes back instead of queueing").register(registry);
    Gauge.builder("biogate.stream.shard.fullness", this, fullest).tag("stream", stream)
      .description("The fullest shard's backlog over its share of the ceiling: at 1 that shard pushes back").register(registry);
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
    lengths(RedisKeys::eventsShard).onSuccess(lens -> {
      eventsBacklog = sum(lens);
      eventsFullest = max(lens) / (double) eventsShardCeiling;
    });
    lengths(RedisKeys::deadLettersShard).onSuccess(lens -> deadLetters = sum(lens));
    lengths(RedisKeys::clicksShard).onSuccess(lens -> {
      clicksBacklog = sum(lens);
      clicksFullest = max(lens) / (double) clicksShardCeiling;
    });
    len(OutboundKeys.STREAM).onSuccess(n -> outboundBacklog = n);
    lagSeconds(RedisKeys::eventsShard, shards, now).onSuccess(s -> eventsLagSeconds = s);
    lagSeconds(x -> OutboundKeys.STREAM, 1, now).onSuccess(s -> outboundLagSeconds = s);
  }

  /** The age of the oldest entry over {@code count} streams (0 when all are empty). */
  private Future<Double> lagSeconds(IntFunction<String> key, int count, long now) {
    List<Future<Response>> oldest = new ArrayList<>(count);
    for (int s = 0; s < count; s++) {
      oldest.add(redis.send(Request.cmd(Command.XRANGE).arg(key.apply(s)).arg("-").arg("+").arg("COUNT").arg(1))
        .timeout(2, TimeUnit.SECONDS));
    }
    return Future.all(oldest).map(all -> {
      long lagMs = 0;
      for (Future<Response> f : oldest) {
        Response r = f.result();
        if (r != null && r.size() > 0) {
          lagMs = Math.max(lagMs, now - idMillis(r.get(0).get(0)));
        }
      }
      return lagMs / 1000.0;
    });
  }

  /** The lengths of the {@code shards} streams of a kind. */
  private Future<long[]> lengths(IntFunction<String> key) {
    List<Future<Long>> lens = new ArrayList<>(shards);
    for (int s = 0; s < shards; s++) {
      lens.add(len(key.apply(s)));
    }
    return Future.all(lens).map(all -> lens.stream().mapToLong(Future::result).toArray());
  }

  private static long sum(long[] lens) {
    return java.util.Arrays.stream(lens).sum();
  }

  private static long max(long[] lens) {
    return java.util.Arrays.stream(lens).max().orElse(0);
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
