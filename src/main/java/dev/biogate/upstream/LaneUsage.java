package dev.biogate.upstream;

import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.StreamReplies;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Wraps an {@link UpstreamBudget} and counts the permits it grants per lane and minute, cluster-wide, in Redis
 * ({@link RedisKeys#budgetUsage}: one small hash per minute, kept {@value #KEEP_MINUTES} minutes), for the operator
 * console's "budget use per lane over the last hour". One fire-and-forget {@code HINCRBY} per granted upstream call,
 * never on a cache hit; a failed count is simply missing from the chart.
 */
public final class LaneUsage implements UpstreamBudget {

  public static final int KEEP_MINUTES = 120;
  private static final long TIMEOUT_MS = 2_000;

  private final UpstreamBudget budget;
  private final Redis redis;
  private final String name;
  private final LongSupplier clock;

  private final LongAdder[] grants = adders();
  private final LongAdder[] denials = adders();

  public LaneUsage(UpstreamBudget budget, Redis redis, String name, LongSupplier clock) {
    this.budget = budget;
    this.redis = redis;
    this.name = name;
    this.clock = clock;
  }

  /** Permits this instance was granted ({@code granted}) or refused in {@code lane} since it started. */
  public long permits(Lane lane, boolean granted) {
    return (granted ? grants : denials)[lane.ordinal()].sum();
  }

  @Override
  public Future<Permit> acquire(Lane lane) {
    return budget.acquire(lane).onComplete(ar -> (ar.succeeded() ? grants : denials)[lane.ordinal()].increment()).onSuccess(p -> {
      String key = RedisKeys.budgetUsage(name, clock.getAsLong() / 60_000);
      redis.batch(List.of(Request.cmd(Command.HINCRBY).arg(key).arg(lane.name()).arg(1),
        Request.cmd(Command.EXPIRE).arg(key).arg(KEEP_MINUTES * 60L)));
    });
  }

  /**
   * The last {@code minutes} minutes, oldest first: {@code [{"t": ISO minute, "FOREGROUND": n, "REFRESH": n,
   * "BACKGROUND": n}, ...]}.
   */
  public Future<JsonArray> history(int minutes) {
    long now = clock.getAsLong() / 60_000;
    List<Request> reads = new ArrayList<>(minutes);
    for (long m = now - minutes + 1; m <= now; m++) {
      reads.add(Request.cmd(Command.HGETALL).arg(RedisKeys.budgetUsage(name, m)));
    }
    return redis.batch(reads).timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS).map(replies -> {
      JsonArray out = new JsonArray();
      for (int i = 0; i < replies.size(); i++) {
        JsonObject row = new JsonObject().put("t", Instant.ofEpochSecond((now - minutes + 1 + i) * 60).toString());
        Map<String, String> hash = StreamReplies.fields(replies.get(i));
        for (Lane lane : Lane.values()) {
          row.put(lane.name(), count(hash, lane.name()));
        }
        out.add(row);
      }
      return out;
    });
  }

  private static long count(Map<String, String> hash, String field) {
    String v = hash.get(field);
    return v == null ? 0 : Long.parseLong(v);
  }

  private static LongAdder[] adders() {
    LongAdder[] a = new LongAdder[Lane.values().length];
    for (int i = 0; i < a.length; i++) {
      a[i] = new LongAdder();
    }
    return a;
  }

  @Override
  public void backOff(long retryAfterMs) {
    budget.backOff(retryAfterMs);
  }

  @Override
  public void observeRemaining(int remaining) {
    budget.observeRemaining(remaining);
  }

  @Override
  public long blockedForMs() {
    return budget.blockedForMs();
  }

  /**
   * Asked instead of {@link #acquire} (a miss storm fails fast without a round trip), so a positive answer is counted
   * as a refused permit: uncounted, the metric showed 1 denial while 400 reads had been refused.
   */
  @Override
  public long deniedForMs(Lane lane) {
    long ms = budget.deniedForMs(lane);
    if (ms > 0) {
      denials[lane.ordinal()].increment();
    }
    return ms;
  }
}
