package dev.biogate.sink;

import dev.biogate.analytics.ClickEvent;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The sink's dead letters ({@code bg:sink:klaviyo:dlq:{bg}}): events Klaviyo rejected or that exhausted their
 * attempts, with why ({@code reason}, last {@code status}, {@code attempts}, {@code failed_at}). A replay moves them
 * atomically to the sink's retry stream, which the sink reads like the clicks stream, so they are delivered again with
 * fresh attempts, paced and deduplicated like any other event.
 */
final class KlaviyoDeadLetters {

  private static final long MAX_LEN = 100_000;
  private static final long TIMEOUT_MS = 5_000;

  private final Redis redis;
  private final LuaScript replay = LuaScript.load("klaviyo_dlq_replay");

  KlaviyoDeadLetters(Redis redis) {
    this.redis = redis;
  }

  Future<Void> add(ClickEvent e, String username, Milestone m, String reason, int status, int attempts, long nowMs) {
    Request xadd = Request.cmd(Command.XADD).arg(RedisKeys.KLAVIYO_DLQ).arg("MAXLEN").arg("~").arg(MAX_LEN).arg("*");
    new ClickEvent(e.eventId(), username, e.linkId(), e.ts(), e.source()).appendFields(xadd);
    if (m != null) {
      m.appendFields(xadd);
    }
    xadd
      .arg("reason").arg(reason).arg("status").arg(status).arg("attempts").arg(attempts).arg("failed_at").arg(nowMs);
    return redis.send(xadd).timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS).mapEmpty();
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
