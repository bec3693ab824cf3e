package dev.biogate.events;

import dev.biogate.redis.RedisKeys;
import dev.biogate.sink.Milestone;
import dev.biogate.stream.StreamEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

/**
 * The gateway's own handling of Linktree {@code analytics.milestone}: the built-in Klaviyo destination. Every other
 * receiver of milestones is an outbound destination subscribed to {@code linktree.analytics.milestone} (the event
 * router fans the event out before it gets here), with the destinations' signing, retries, dead letters and history.
 */
public final class Milestones {

  private final Redis redis;
  private final boolean toKlaviyo;

  /** {@code toKlaviyo}: queue each milestone for the Klaviyo sink (which resolves the creator from the link). */
  public Milestones(Redis redis, boolean toKlaviyo) {
    this.redis = redis;
    this.toKlaviyo = toKlaviyo;
  }

  /**
   * Queues the milestone for Klaviyo; completes with {@code true} when it did, {@code false} when there is nothing to
   * do (sink off, or no link or delivery id). Queueing twice on a retry is harmless: Klaviyo and the sink deduplicate
   * on the delivery id. The event's time is when the milestone was reached ({@code madeAtMs}, the envelope's
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
    Request xadd = Request.cmd(Command.XADD).arg(RedisKeys.KLAVIYO_RETRY).arg("*")
      .arg("event_id").arg(deliveryId).arg("link_id").arg(linkId)
      .arg("ts").arg(madeAtMs > 0 ? Long.toString(madeAtMs) : received == null ? "0" : received).arg("source").arg("linktree");
    Object username = data.getValue("username");
    if (username instanceof String) {
      xadd.arg("username").arg((String) username);
    }
    new Milestone(text(data, "metric"), text(data, "value"), text(data, "threshold")).appendFields(xadd);
    return redis.send(xadd).map(true);
  }

  private static String text(JsonObject data, String key) {
    Object v = data.getValue(key);
    return v == null ? "" : v.toString();
  }
}
