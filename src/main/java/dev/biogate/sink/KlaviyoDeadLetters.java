package dev.biogate.sink;

import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The sink's dead letters ({@code bg:sink:klaviyo:dlq:{bg}}), written by the stream engine: events Klaviyo rejected
 * or that exhausted their attempts, with why ({@code error}, {@code attempts}, {@code failed_at}). A replay moves them
 * atomically to the sink's retry stream, which the sink reads like the clicks stream, so they are delivered again with
 * fresh attempts, paced and deduplicated like any other event.
 */
final class KlaviyoDeadLetters {

  /** Dead letters kept at most (the oldest go first): a cap on a record of failures, never on work. */
  static final long MAX_LEN = 100_000;
  private static final long TIMEOUT_MS = 5_000;

  private final Redis redis;
  private final LuaScript replay = LuaScript.load("klaviyo_dlq_replay");

  KlaviyoDeadLetters(Redis redis) {
    this.redis = redis;
  }

  /** Moves up to {@code limit} dead letters, oldest first, back to delivery; completes with how many. */
  Future<Integer> replay(int limit) {
    return replay.run(redis, List.of(RedisKeys.KLAVIYO_DLQ, RedisKeys.KLAVIYO_RETRY), List.of(Integer.toString(limit)))
      .timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS).map(r -> r.toInteger());
  }

  Future<Long> size() {
    return redis.send(Request.cmd(Command.XLEN).arg(RedisKeys.KLAVIYO_DLQ)).timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .map(r -> r == null ? 0L : r.toLong());
  }
}
