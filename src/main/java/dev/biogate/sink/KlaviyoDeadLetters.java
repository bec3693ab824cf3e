package dev.biogate.sink;

import dev.biogate.http.ApiException;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.ReplicaWatch;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The sink's dead letters ({@code bg:sink:klaviyo:dlq:{bg}}), written by the stream engine: events Klaviyo rejected
 * or that exhausted their attempts, with why ({@code error}, {@code attempts}, {@code failed_at}). A replay moves them
 * atomically to the sink's retry stream, which the sink reads like the clicks stream, so they are delivered again with
 * fresh attempts, paced and deduplicated like any other event. Each move is answered only once a replica holds it where
 * its master has one, or fails with {@code 503 not_replicated} (the moves before it stand; a retry moves the rest).
 */
final class KlaviyoDeadLetters {

  /**
   * The ceiling of each of the sink's dead-letter streams. Nothing is trimmed from them: at the ceiling an event due
   * for them stays pending on its clicks (or retry) stream and is tried again later (counted and logged by the engine).
   */
  static final long MAX_LEN = 100_000;
  private static final long TIMEOUT_MS = 5_000;
  static final ApiException NOT_REPLICATED = ApiException.notReplicated("the replay");

  private final Redis redis;
  private final int shards;
  private final LuaScript replay = LuaScript.load("klaviyo_dlq_replay");
  private final ReplicaWatch replicas;
  private final long waitMs;

  KlaviyoDeadLetters(Redis redis, int shards, ReplicaWatch replicas, long waitMs) {
    this.redis = redis;
    this.shards = shards;
    this.replicas = replicas;
    this.waitMs = waitMs;
  }

  /**
   * Moves up to {@code limit} dead letters, oldest first per stream, back to delivery; completes with how many. The
   * retry stream's go back to it; each clicks shard's go back onto that shard (the click counters see them again and
   * ignore them: they count each event id once), as in one slot the move stays atomic.
   */
  Future<Integer> replay(int limit) {
    Future<Integer> chain = move(replicas.indexOf(RedisKeys.KLAVIYO_DLQ), RedisKeys.KLAVIYO_DLQ, RedisKeys.KLAVIYO_RETRY, limit);
    for (int s = 0; s < shards; s++) {
      int shard = s;
      chain = chain.compose(n -> n >= limit ? Future.succeededFuture(n)
        : move(shard, RedisKeys.klaviyoDlqShard(shard), RedisKeys.clicksShard(shard), limit - n).map(m -> n + m));
    }
    return chain;
  }

  /** One atomic move on the master watched at {@code master} (a clicks shard's is its webhook shard's). */
  private Future<Integer> move(int master, String dead, String target, int limit) {
    return replicas.durably(master, redis, replay, List.of(dead, target), List.of(Integer.toString(limit)), waitMs, NOT_REPLICATED)
      .timeout(TIMEOUT_MS + waitMs, TimeUnit.MILLISECONDS)
      .map(r -> r.toInteger());
  }

  Future<Long> size() {
    List<Future<Long>> lens = new ArrayList<>(shards + 1);
    lens.add(len(RedisKeys.KLAVIYO_DLQ));
    for (int s = 0; s < shards; s++) {
      lens.add(len(RedisKeys.klaviyoDlqShard(s)));
    }
    return Future.all(lens).map(all -> lens.stream().mapToLong(Future::result).sum());
  }

  private Future<Long> len(String key) {
    return redis.send(Request.cmd(Command.XLEN).arg(key)).timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .map(r -> r == null ? 0L : r.toLong());
  }
}
