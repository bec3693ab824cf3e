package dev.biogate.events;

import dev.biogate.redis.RedisKeys;
import dev.biogate.stream.StreamEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Per-delivery history, written at ingestion and updated by every handling attempt, kept as long as the delivery's
 * dedupe marker: when it was received, its type, how many times the provider sent it, how many handling attempts it
 * took and how that ended ({@code queued | retrying | handled | dead_lettered | replayed}).
 */
public final class DeliveryHistory {

  private static final String[] PROVIDERS = {"linktree", "linkme", "klaviyo"};

  private final Redis redis;
  private final int shards;

  public DeliveryHistory(Redis redis, int shards) {
    this.redis = redis;
    this.shards = shards;
  }

  /**
   * The history of a delivery id (a Linktree delivery id, a LinkMe envelope id or a Klaviyo event's external_id), or {@code null}. A delivery's
   * shard follows its body, which the id does not tell: every shard is asked at once (an admin call, 2 × shards
   * reads), and the first provider in order that has it answers, as before sharding.
   */
  public Future<JsonObject> lookup(String deliveryId) {
    List<Future<Response>> reads = new ArrayList<>(PROVIDERS.length * shards);
    for (String provider : PROVIDERS) {
      for (int s = 0; s < shards; s++) {
        reads.add(redis.send(Request.cmd(Command.HGETALL).arg(RedisKeys.webhookDelivery(s, provider, deliveryId))));
      }
    }
    return Future.all(reads).map(all -> {
      for (int i = 0; i < reads.size(); i++) {
        Map<String, String> f = StreamEntry.fields(reads.get(i).result());
        if (!f.isEmpty()) {
          return describe(PROVIDERS[i / shards], deliveryId, f);
        }
      }
      return null;
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
