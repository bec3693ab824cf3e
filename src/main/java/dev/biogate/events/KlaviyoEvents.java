package dev.biogate.events;

import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import dev.biogate.stream.StreamEntry;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;

import java.util.List;

/**
 * Handles queued Klaviyo system-webhook events: counts each by topic ({@link RedisKeys#KLAVIYO_TOPICS}, at most
 * {@link #MAX_TOPICS} of them, the rest as {@code other}), once per
 * delivery id ({@code redis/klaviyo_topic_count.lua}: an entry taken over from an instance that died after counting it
 * is not counted again); the acknowledgement then records it as handled in its delivery history, looked up by its
 * {@code external_id}.
 */
public final class KlaviyoEvents {

  /** Topics the hash keeps; events of others, once this many are counted, are counted under {@code other}. */
  public static final int MAX_TOPICS = 256;

  private final LuaScript count = LuaScript.load("klaviyo_topic_count");
  private final Redis redis;

  public KlaviyoEvents(Redis redis) {
    this.redis = redis;
  }

  Future<Void> record(StreamEntry e) {
    String type = e.get("type");
    String topic = type == null ? "unknown" : type;
    String delivery = e.get("delivery_id");
    String marker = RedisKeys.klaviyoCounted(delivery == null || delivery.isEmpty() ? "entry:" + e.id() : delivery);
    return count.run(redis, List.of(RedisKeys.KLAVIYO_TOPICS, marker),
      List.of(topic, Long.toString(ProfileEventHandler.ORDER_MEMORY_MS), Integer.toString(MAX_TOPICS))).mapEmpty();
  }
}
