package dev.biogate.ops;

import dev.biogate.destination.OutboundKeys;
import dev.biogate.redis.RedisKeys;
import dev.biogate.upstream.LaneUsage;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /admin/overview}: what the operator console shows at a glance, as JSON. Budget permits per lane and
 * minute over the last hour (cluster-wide, {@link LaneUsage}), the circuit breakers, this instance's profile cache
 * hit ratio, and the length of every stream (events backlog, dead letters, clicks, Klaviyo retry and dead letters, and
 * the deliveries waiting for destinations). Breakers and cache figures are read from this instance's meters, the same
 * numbers {@code /metrics} exports.
 */
public final class ConsoleOverview {

  private static final long TIMEOUT_MS = 2_000;
  private static final int MINUTES = 60;
  private static final String[] BREAKER_STATES = {"closed", "half_open", "open"};
  private static final List<String> HITS = List.of("hit", "shared_hit", "stale", "stale_if_error");
  private static final List<String> MISSES = List.of("miss", "unavailable");

  private final Redis redis;
  private final LaneUsage usage;
  private final MeterRegistry registry;
  private final int budgetLimit;
  private final int shards;

  public ConsoleOverview(Redis redis, LaneUsage usage, MeterRegistry registry, int budgetLimit, int shards) {
    this.shards = shards;
    this.redis = redis;
    this.usage = usage;
    this.registry = registry;
    this.budgetLimit = budgetLimit;
  }

  /** Mounts the route; {@link AdminAuth} guards it with the rest of {@code /admin/*}. */
  public void mount(Router router) {
    router.get("/admin/overview").handler(ctx -> AdminHandler.answer(ctx, () -> null, v -> overview()));
  }

  Future<JsonObject> overview() {
    // The ingest streams are sharded (one hash tag per shard, so one slot per key on Cluster): lengths are summed.
    // The Klaviyo retry and outbound streams are single keys.
    Future<JsonObject> lengths = Future.all(List.of(total(RedisKeys::eventsShard), total(RedisKeys::deadLettersShard),
        total(RedisKeys::clicksShard), total(s -> RedisKeys.KLAVIYO_RETRY, 1), total(RedisKeys::klaviyoDlqShard),
        total(s -> OutboundKeys.STREAM, 1)))
      .map(l -> new JsonObject().put("events_backlog", l.<Long>resultAt(0)).put("dead_letters", l.<Long>resultAt(1))
        .put("clicks", l.<Long>resultAt(2)).put("klaviyo_retry", l.<Long>resultAt(3)).put("klaviyo_dead_letters", l.<Long>resultAt(4))
        .put("outbound_backlog", l.<Long>resultAt(5)));
    return Future.all(usage.history(MINUTES), lengths)
      .map(all -> {
        JsonObject streams = all.resultAt(1);
        return new JsonObject()
          .put("budget", new JsonObject().put("limit_per_window", budgetLimit).put("minutes", all.<JsonArray>resultAt(0)))
          .put("breakers", new JsonObject().put("linktree", breaker("biogate.upstream.circuit.state", null))
            .put("klaviyo", breaker("biogate.sink.circuit.state", "klaviyo")))
          .put("cache", cache())
          .put("streams", streams);
      });
  }

  private Future<Long> total(java.util.function.IntFunction<String> key) {
    return total(key, shards);
  }

  private Future<Long> total(java.util.function.IntFunction<String> key, int count) {
    List<Future<Response>> lengths = new java.util.ArrayList<>(count);
    for (int s = 0; s < count; s++) {
      lengths.add(redis.send(xlen(key.apply(s))).timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS));
    }
    return Future.all(lengths).map(all -> {
      long sum = 0;
      for (Future<Response> f : lengths) {
        sum += len(f.result());
      }
      return sum;
    });
  }

  private String breaker(String name, String sink) {
    Gauge g = sink == null ? registry.find(name).gauge() : registry.find(name).tag("sink", sink).gauge();
    if (g == null) {
      return "off";
    }
    int s = (int) g.value();
    return s >= 0 && s < BREAKER_STATES.length ? BREAKER_STATES[s] : "unknown";
  }

  private JsonObject cache() {
    JsonObject reads = new JsonObject();
    long hits = 0;
    long misses = 0;
    for (FunctionCounter c : registry.find("biogate.profile.reads").functionCounters()) {
      String result = c.getId().getTag("result");
      long n = (long) c.count();
      reads.put(result, n);
      if (HITS.contains(result)) {
        hits += n;
      } else if (MISSES.contains(result)) {
        misses += n;
      }
    }
    Double ratio = hits + misses == 0 ? null : (double) hits / (hits + misses);
    return new JsonObject().put("hit_ratio", ratio).put("reads", reads);
  }

  private static Request xlen(String key) {
    return Request.cmd(Command.XLEN).arg(key);
  }

  private static long len(Response r) {
    return r == null ? 0 : r.toLong();
  }
}
