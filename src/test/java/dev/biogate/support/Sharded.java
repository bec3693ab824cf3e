package dev.biogate.support;

import dev.biogate.config.WebhookOptions;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.Shards;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntFunction;

/** Reads over every shard of a sharded stream, for a gateway running with the default shard count. */
public final class Sharded {

  public static final Shards SHARDS = new Shards(WebhookOptions.DEFAULT_SHARDS);

  private Sharded() {
  }

  /** The clicks shard a click of this creator (or, without one, of this link) is written to. */
  public static String clicksOf(String username, String linkId) {
    return RedisKeys.clicksShard(SHARDS.ofClick(username, linkId));
  }

  /** Sum of XLEN over the shards. */
  public static Future<Long> xlen(Function<Request, Future<Response>> redis, IntFunction<String> key) {
    return each(redis, s -> Request.cmd(Command.XLEN).arg(key.apply(s)))
      .map(all -> all.stream().mapToLong(r -> r == null ? 0 : r.toLong()).sum());
  }

  /** Sum of the group's pending counts over the shards. */
  public static Future<Long> pending(Function<Request, Future<Response>> redis, IntFunction<String> key, String group) {
    return each(redis, s -> Request.cmd(Command.XPENDING).arg(key.apply(s)).arg(group))
      .map(all -> all.stream().mapToLong(r -> r.get(0).toLong()).sum());
  }

  /**
   * True once no shard holds a webhook event or a click its consumer group has not finished: nothing is left that a
   * consumer could handle (again), so handled and counted totals are final.
   */
  public static Future<Boolean> settled(Function<Request, Future<Response>> redis) {
    return pending(redis, RedisKeys::eventsShard, RedisKeys.EVENTS_GROUP).compose(events ->
      pending(redis, RedisKeys::clicksShard, RedisKeys.CLICKS_COUNTER_GROUP).map(clicks -> events == 0 && clicks == 0));
  }

  /** Every entry of every shard (each shard oldest first, shard after shard). */
  public static Future<List<Response>> entries(Function<Request, Future<Response>> redis, IntFunction<String> key) {
    return each(redis, s -> Request.cmd(Command.XRANGE).arg(key.apply(s)).arg("-").arg("+")).map(all -> {
      List<Response> out = new ArrayList<>();
      all.forEach(r -> r.forEach(out::add));
      return out;
    });
  }

  private static Future<List<Response>> each(Function<Request, Future<Response>> redis, IntFunction<Request> request) {
    List<Future<Response>> calls = new ArrayList<>(SHARDS.count());
    for (int s = 0; s < SHARDS.count(); s++) {
      calls.add(redis.apply(request.apply(s)));
    }
    return Future.all(calls).map(all -> calls.stream().map(Future::result).toList());
  }
}
