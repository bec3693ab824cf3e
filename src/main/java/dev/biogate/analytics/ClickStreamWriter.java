package dev.biogate.analytics;

import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.VertxException;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import dev.biogate.redis.Shards;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Writes click events to the clicks shards, each event to its creator's shard ({@link Shards#ofClick}), one atomic
 * append per shard touched ({@code redis/click_append.lua}). A shard whose backlog would pass its ceiling (the
 * configured ceiling split over the shards) refuses its part whole, and the write fails with {@link Full}; it fails
 * within {@code timeoutMs} when Redis does not answer. The caller then keeps the whole batch and offers it again, so
 * events another shard already took are appended twice; harmless, like a timed-out batch that lands later: every
 * consumer is idempotent per event id. Nothing is ever trimmed on write: entries leave a stream once every consumer
 * group has finished them.
 */
public final class ClickStreamWriter {

  /** The clicks stream holds {@code ceiling} entries: the batch was not written. Stackless, expected. */
  public static final class Full extends VertxException {
    Full() {
      super("the clicks stream is at its backlog ceiling", true);
    }
  }

  private static final Full FULL = new Full();
  private static final LuaScript APPEND = LuaScript.load("click_append");

  private final Redis redis;
  private final Shards shards;
  private final String ceiling;
  private final long timeoutMs;

  public ClickStreamWriter(Redis redis, Shards shards, long ceiling, long timeoutMs) {
    this.redis = redis;
    this.shards = shards;
    this.ceiling = Long.toString(shards.ceiling(ceiling));
    this.timeoutMs = timeoutMs;
  }

  public Future<Void> write(List<ClickEvent> events) {
    Map<Integer, List<String>> byShard = new HashMap<>();
    for (ClickEvent e : events) {
      List<String> args = byShard.computeIfAbsent(shards.ofClick(e.username(), e.linkId()), s -> {
        List<String> a = new ArrayList<>(1 + events.size() * 11);
        a.add(ceiling);
        return a;
      });
      List<String> fields = e.fields();
      args.add(Integer.toString(fields.size()));
      args.addAll(fields);
    }
    List<Future<Long>> appends = new ArrayList<>(byShard.size());
    byShard.forEach((shard, args) -> appends.add(APPEND.run(redis, List.of(RedisKeys.clicksShard(shard)), args)
      .timeout(timeoutMs, TimeUnit.MILLISECONDS).map(r -> r.toLong())));
    return Future.all(appends).compose(all -> {
      for (Future<Long> f : appends) {
        if (f.result() < 0) {
          return Future.failedFuture(FULL);
        }
      }
      return Future.succeededFuture();
    });
  }

  /** Whether Redis answers again. */
  Future<Void> ping() {
    return redis.send(Request.cmd(Command.PING)).timeout(timeoutMs, TimeUnit.MILLISECONDS).mapEmpty();
  }
}
