package dev.biogate.events;

import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.RedisTimeoutException;
import dev.biogate.sink.Milestone;
import dev.biogate.stream.StreamEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;

import java.util.ArrayList;
import java.util.List;

/**
 * The gateway's own handling of Linktree {@code analytics.milestone}: the built-in Klaviyo destination. Every other
 * receiver of milestones is an outbound destination subscribed to {@code linktree.analytics.milestone} (the event
 * router fans the event out before it gets here), with the destinations' signing, retries, dead letters and history.
 */
public final class Milestones {

  /** How long a milestone's delivery id is remembered as queued: past the providers' retry horizon (72 h). */
  static final long QUEUED_MEMORY_MS = 96L * 3_600_000L;
  private static final long TIMEOUT_MS = 2_000;

  private final Redis redis;
  private final boolean toKlaviyo;
  private final LuaScript queueOnce = LuaScript.load("klaviyo_queue_once");

  /** {@code toKlaviyo}: queue each milestone for the Klaviyo sink (which resolves the creator from the link). */
  public Milestones(Redis redis, boolean toKlaviyo) {
    this.redis = redis;
    this.toKlaviyo = toKlaviyo;
  }

  /**
   * Queues the milestone for Klaviyo; completes with {@code true} when it did, {@code false} when there is nothing to
   * do (sink off, or no link or delivery id). A retry of the event does not queue it again (a marker per
   * delivery id, written with the entry): the sink does not deduplicate, and a drill saw 19 of 1,035 sent twice. The event's time is when the milestone was reached ({@code madeAtMs}, the envelope's
   * {@code timestamp}), or when it was received when it has none: a delivery retried hours later was placed in Klaviyo
   * at its retry.
   */
  Future<Boolean> toKlaviyo(StreamEntry e, JsonObject data, long madeAtMs) {
    String linkId = data.getValue("link_id") == null ? null : data.getValue("link_id").toString();
    String deliveryId = e.get("delivery_id");
    if (!toKlaviyo || linkId == null || deliveryId == null) {
      return Future.succeededFuture(false);
    }
    String received = e.get("received");
    List<String> args = new ArrayList<>(List.of(Long.toString(QUEUED_MEMORY_MS),
      "event_id", deliveryId, "link_id", linkId,
      "ts", madeAtMs > 0 ? Long.toString(madeAtMs) : received == null ? "0" : received, "source", "linktree"));
    Object username = data.getValue("username");
    if (username instanceof String) {
      args.add("username");
      args.add((String) username);
    }
    new Milestone(text(data, "metric"), text(data, "value"), text(data, "threshold")).appendFields(args);
    // Once per delivery id, whatever number of times its event is handled (see redis/klaviyo_queue_once.lua).
    return RedisTimeoutException.within(
      queueOnce.run(redis, List.of(RedisKeys.KLAVIYO_RETRY, RedisKeys.klaviyoQueued(deliveryId)), args), TIMEOUT_MS).map(true);
  }

  private static String text(JsonObject data, String key) {
    Object v = data.getValue(key);
    return v == null ? "" : v.toString();
  }
}
