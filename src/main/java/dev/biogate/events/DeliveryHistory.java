package dev.biogate.events;

import dev.biogate.redis.RedisKeys;
import dev.biogate.stream.StreamEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.time.Instant;
import java.util.Map;

/**
 * Per-delivery history, written at ingestion and updated by every handling attempt, kept as long as the delivery's
 * dedupe marker: when it was received, its type, how many times the provider sent it, how many handling attempts it
 * took and how that ended ({@code queued | retrying | handled | dead_lettered | replayed}).
 */
public final class DeliveryHistory {

  private static final String[] PROVIDERS = {"linktree", "linkme", "klaviyo"};

  private final Redis redis;

  public DeliveryHistory(Redis redis) {
    this.redis = redis;
  }

  /** The history of a delivery id (a Linktree delivery id, a LinkMe envelope id or a Klaviyo event's external_id), or {@code null}. */
  public Future<JsonObject> lookup(String deliveryId) {
    return find(deliveryId, 0);
  }

  private Future<JsonObject> find(String deliveryId, int i) {
    if (i == PROVIDERS.length) {
      return Future.succeededFuture(null);
    }
    return redis.send(Request.cmd(Command.HGETALL).arg(RedisKeys.webhookDelivery(PROVIDERS[i], deliveryId))).compose(r -> {
      Map<String, String> f = StreamEntry.fields(r);
      return f.isEmpty() ? find(deliveryId, i + 1) : Future.succeededFuture(describe(PROVIDERS[i], deliveryId, f));
    });
  }

  private static JsonObject describe(String provider, String deliveryId, Map<String, String> f) {
    JsonObject out = new JsonObject().put("delivery_id", deliveryId).put("provider", provider).put("type", f.get("type"));
    Long received = DeadLetters.longOrNull(f.get("received"));
    out.put("received", received == null ? null : Instant.ofEpochMilli(received).toString()).put("received_ms", received);
    out.put("deliveries", number(f, "deliveries")).put("attempts", number(f, "attempts")).put("outcome", f.get("outcome"));
    putIfPresent(out, "last_error", f.get("last_error"));
    putTime(out, "last_attempt_at", f.get("last_attempt_at"));
    putTime(out, "handled_at", f.get("handled_at"));
    putTime(out, "replayed_at", f.get("replayed_at"));
    putIfPresent(out, "dead_letter_id", f.get("dead_letter_id"));
    if (f.containsKey("replays")) {
      out.put("replays", number(f, "replays"));
    }
    return out;
  }

  private static long number(Map<String, String> f, String key) {
    Long v = DeadLetters.longOrNull(f.get(key));
    return v == null ? 0 : v;
  }

  private static void putIfPresent(JsonObject out, String key, String value) {
    if (value != null) {
      out.put(key, value);
    }
  }

  private static void putTime(JsonObject out, String key, String ms) {
    Long v = DeadLetters.longOrNull(ms);
    if (v != null) {
      out.put(key, Instant.ofEpochMilli(v).toString());
    }
  }
}
