package dev.biogate.events;

import dev.biogate.redis.RedisKeys;
import dev.biogate.stream.StreamEntry;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

/**
 * Handles queued Klaviyo system-webhook events: counts each by topic ({@link RedisKeys#KLAVIYO_TOPICS}); the
 * acknowledgement then records it as handled in its delivery history, looked up by its {@code external_id}. A count
 * can repeat only when Redis fails between this write and the acknowledgement (the entry is then retried).
 */
public final class KlaviyoEvents {

  private final Redis redis;

  public KlaviyoEvents(Redis redis) {
    this.redis = redis;
  }

  Future<Void> record(StreamEntry e) {
    String type = e.get("type");
    String topic = type == null ? "unknown" : type;
    return redis.send(Request.cmd(Command.HINCRBY).arg(RedisKeys.KLAVIYO_TOPICS).arg(topic).arg(1)).mapEmpty();
  }
}
