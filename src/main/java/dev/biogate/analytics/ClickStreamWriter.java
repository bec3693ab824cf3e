package dev.biogate.analytics;


import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.RedisTimeoutException;
import dev.biogate.redis.ReplicaWatch;
import dev.biogate.redis.Shards;
import io.vertx.core.Future;
import io.vertx.core.VertxException;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.function.Consumer;

/**
 * Writes click events to the clicks shards, each event to its creator's shard ({@link Shards#ofClick}), one atomic
 * append per shard touched ({@code redis/click_append.lua}). A shard whose backlog would pass its ceiling (the
 * configured ceiling split over the shards) refuses its part whole, and the write fails with {@link Full}; it fails
 * within {@code timeoutMs} when Redis does not answer. The caller then keeps the whole batch and offers it again, so
 * events another shard already took are appended twice; harmless, like a timed-out batch that lands later: every
 * consumer is idempotent per event id. Nothing is ever trimmed on write: entries leave a stream once every consumer
 * group has finished them.
 * <p>
 * Where the shard's master has a replica ({@link ReplicaWatch}), each append is followed by {@code WAIT 1} on the same
 * connection and fails with {@link NotReplicated} when no replica acknowledged it in time: the recorder then keeps the
 * batch in its journal and writes it again later, so a failover (the master dying before its replica has the batch,
 * or a Sentinel switch leaving writes on the old master) cannot take accepted clicks with it.
 */
public final class ClickStreamWriter {

  /** The clicks stream holds {@code ceiling} entries: the batch was not written. Stackless, expected. */
  public static final class Full extends VertxException {
    Full() {
      super("the clicks stream is at its backlog ceiling", true);
    }
  }

  /** No replica acknowledged the append in time: the batch may exist on the master alone. Stackless, expected. */
  public static final class NotReplicated extends dev.biogate.redis.NotDurableException {
    NotReplicated() {
      super("no replica acknowledged the click batch in time");
    }
  }

  private static final Full FULL = new Full();
  private static final NotReplicated NOT_REPLICATED = new NotReplicated();
  private static final LuaScript APPEND = LuaScript.load("click_append");

  private final Redis redis;
  private final Shards shards;
  private final String ceiling;
  private final long timeoutMs;
  private final Consumer<String> queued;
  private final ReplicaWatch replicas;
  private final long replicaWaitMs;

  /**
   * {@code queued}: told the stream key of each shard a batch was appended to (this process's reader reads it at
   * once); appends to a shard whose master has a replica wait up to {@code replicaWaitMs} for it.
   */
  public ClickStreamWriter(Redis redis, Shards shards, long ceiling, long timeoutMs, Consumer<String> queued,
                           ReplicaWatch replicas, long replicaWaitMs) {
    this.redis = redis;
    this.queued = queued;
    this.shards = shards;
    this.ceiling = Long.toString(shards.ceiling(ceiling));
    this.timeoutMs = timeoutMs;
    this.replicas = replicas;
    this.replicaWaitMs = replicaWaitMs;
  }

  /** The most entries one shard's stream may hold: a write of more for one shard is refused whole. */
  long shardCeiling() {
    return Long.parseLong(ceiling);
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
    if (byShard.size() == 1) {
      return append(byShard);
    }
    // Several shards: first check that each has room, so that a full shard refuses the batch before any other shard
    // took its part (the caller offers the whole batch again; appending the parts that fit each time would fill the
    // free shards with copies). Only a shard filling up between the check and the append can still split a batch.
    long ceil = Long.parseLong(ceiling);
    List<Future<Boolean>> room = new ArrayList<>(byShard.size());
    byShard.forEach((shard, args) -> room.add(RedisTimeoutException.within(
      redis.send(Request.cmd(Command.XLEN).arg(RedisKeys.clicksShard(shard))), timeoutMs).map(len -> len.toLong() + count(args) <= ceil)));
    return Future.all(room).compose(all -> room.stream().allMatch(Future::result) ? append(byShard) : Future.failedFuture(FULL));
  }

  /** Events in one shard's argument list (each: its field count, then its fields). */
  private static int count(List<String> args) {
    int n = 0;
    for (int i = 1; i < args.size(); i += 1 + Integer.parseInt(args.get(i))) {
      n++;
    }
    return n;
  }

  private Future<Void> append(Map<Integer, List<String>> byShard) {
    if (byShard.keySet().stream().anyMatch(replicas::refuses)) {
      // The batch goes to the journal and is written again later, as when a replica wait fails.
      return Future.failedFuture(NOT_REPLICATED);
    }
    List<Future<Long>> appends = new ArrayList<>(byShard.size());
    List<String> streams = new ArrayList<>(byShard.size());
    byShard.forEach((shard, args) -> {
      String stream = RedisKeys.clicksShard(shard);
      streams.add(stream);
      int wanted = replicas.replicasToWait(shard);
      if (wanted > 0) {
        appends.add(RedisTimeoutException.within(APPEND.runAndWait(redis, List.of(stream), args, wanted, replicaWaitMs),
            timeoutMs + replicaWaitMs)
          .compose(r -> {
            if (r.reply().toLong() >= 0 && replicas.missed(shard, r.replicas(), wanted)) {
              return Future.failedFuture(NOT_REPLICATED);
            }
            return Future.succeededFuture(r.reply().toLong());
          }));
      } else {
        appends.add(RedisTimeoutException.within(APPEND.run(redis, List.of(stream), args), timeoutMs).map(r -> r.toLong()));
      }
    });
    return Future.all(appends).compose(all -> {
      for (Future<Long> f : appends) {
        if (f.result() < 0) {
          return Future.failedFuture(FULL);
        }
      }
      streams.forEach(queued);
      return Future.succeededFuture();
    });
  }

  /** One event with extra fields for the sinks (e.g. {@code profile}: who to attribute an unowned click to), on its shard. */
  public Future<Void> write(ClickEvent event, List<String> extra) {
    List<String> fields = new ArrayList<>(event.fields());
    fields.addAll(extra);
    List<String> args = new ArrayList<>(2 + fields.size());
    args.add(ceiling);
    args.add(Integer.toString(fields.size()));
    args.addAll(fields);
    return append(Map.of(shards.ofClick(event.username(), event.linkId()), args));
  }

  /** Whether Redis answers again. */
  Future<Void> ping() {
    return RedisTimeoutException.within(redis.send(Request.cmd(Command.PING)), timeoutMs).mapEmpty();
  }
}
