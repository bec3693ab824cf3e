package dev.biogate.analytics;

import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Writes click events to the clicks stream: one pipelined batch of {@code XADD}s (approximately capped at
 * {@code maxLen} entries), failing within {@code timeoutMs} when Redis does not answer. A timed-out batch may still
 * land later; that is harmless, because every consumer is idempotent per event id.
 */
final class ClickStreamWriter {

  private final Redis redis;
  private final long maxLen;
  private final long timeoutMs;

  ClickStreamWriter(Redis redis, long maxLen, long timeoutMs) {
    this.redis = redis;
    this.maxLen = maxLen;
    this.timeoutMs = timeoutMs;
  }

  Future<Void> write(List<ClickEvent> events) {
    List<Request> batch = new ArrayList<>(events.size());
    for (ClickEvent e : events) {
      batch.add(e.appendFields(Request.cmd(Command.XADD).arg(RedisKeys.CLICKS_STREAM).arg("MAXLEN").arg("~").arg(maxLen).arg("*")));
    }
    return redis.batch(batch).timeout(timeoutMs, TimeUnit.MILLISECONDS).mapEmpty();
  }

  /** Whether Redis answers again. */
  Future<Void> ping() {
    return redis.send(Request.cmd(Command.PING)).timeout(timeoutMs, TimeUnit.MILLISECONDS).mapEmpty();
  }
}
