package dev.biogate.events;

import dev.biogate.destination.FanOut;
import dev.biogate.destination.OutboundDeadLetters;
import dev.biogate.redis.RedisKeys;
import dev.biogate.stream.StreamEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
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
 * took and how that ended ({@code queued | retrying | handled | skipped | dead_lettered | replayed}). A handled
 * delivery also names its {@code handler} and what it did ({@code result}); one nothing wanted is {@code skipped}
 * with the {@code reason}. The lookup also shows what each outbound destination the event went to did with it: its
 * {@code webhook-id}, outcome and every attempt (when it started, how long it took, status code or error).
 */
public final class DeliveryHistory {

  private final Redis redis;
  private final int shards;
  /** The destinations' side of a lookup; {@code null} when this history only notes. */
  private final FanOut fanOut;
  private final OutboundDeadLetters outbound;

  public DeliveryHistory(Redis redis, int shards) {
    this(redis, shards, null, null);
  }

  private DeliveryHistory(Redis redis, int shards, FanOut fanOut, OutboundDeadLetters outbound) {
    this.redis = redis;
    this.shards = shards;
    this.fanOut = fanOut;
    this.outbound = outbound;
  }

  /** This history, whose lookups also show each destination's delivery of the event and its attempts. */
  public DeliveryHistory withDestinations(FanOut fanOut, OutboundDeadLetters outbound) {
    return new DeliveryHistory(redis, shards, fanOut, outbound);
  }

  /** The providers whose deliveries have a history, in the order an unscoped lookup reports them. */
  public static final List<String> PROVIDERS = List.of("linktree", "linkme", "klaviyo");

  /**
   * The history of a delivery id (a Linktree delivery id, a LinkMe envelope id or a Klaviyo event's external_id), or
   * {@code null}. A delivery's shard follows its body, which the id does not tell: every shard is asked at once (an
   * admin call, 2 × shards reads per provider). The ids are the providers' own, so two providers can hold the same
   * one: the first provider in order that has it answers, as before, and {@code other_providers} names the others
   * that hold a record under the id (absent when none does), each of which {@link #lookup(String, String)} shows.
   */
  public Future<JsonObject> lookup(String deliveryId) {
    return lookup(PROVIDERS, deliveryId);
  }

  /** The history of one provider's delivery id (one of {@link #PROVIDERS}), or {@code null}. */
  public Future<JsonObject> lookup(String provider, String deliveryId) {
    return lookup(List.of(provider), deliveryId);
  }

  private Future<JsonObject> lookup(List<String> providers, String deliveryId) {
    List<Future<Response>> reads = new ArrayList<>(providers.size() * shards);
    for (String provider : providers) {
      for (int s = 0; s < shards; s++) {
        reads.add(redis.send(Request.cmd(Command.HGETALL).arg(RedisKeys.webhookDelivery(s, provider, deliveryId))));
      }
    }
    return Future.all(reads).compose(all -> {
      String first = null;
      Map<String, String> found = null;
      JsonArray others = new JsonArray();
      for (int i = 0; i < reads.size(); i++) {
        Map<String, String> f = StreamEntry.fields(reads.get(i).result());
        String provider = providers.get(i / shards);
        if (f.isEmpty() || provider.equals(first) || others.contains(provider)) {
          continue;
        }
        if (first == null) {
          first = provider;
          found = f;
        } else {
          others.add(provider);
        }
      }
      if (first == null) {
        return Future.succeededFuture(null);
      }
      String provider = first;
      JsonObject out = describe(provider, deliveryId, found);
      if (!others.isEmpty()) {
        out.put("other_providers", others);
      }
      return destinations(provider, found.get("type"), deliveryId).map(list -> list == null ? out : out.put("destinations", list));
    });
  }

  /**
   * The lookup's {@code destinations} list: the delivery of this event to each destination whose filters match it
   * now, as far as it got (one read pair per destination); {@code null} without destinations.
   */
  private Future<JsonArray> destinations(String provider, String type, String deliveryId) {
    if (fanOut == null || type == null) {
      return Future.succeededFuture(null);
    }
    List<Future<JsonObject>> each = new ArrayList<>();
    for (String name : fanOut.matching(provider + "." + type)) {
      each.add(outbound.history(FanOut.webhookId(provider, deliveryId, name)));
    }
    return Future.all(each).map(all -> {
      JsonArray list = new JsonArray();
      each.stream().map(Future::result).filter(java.util.Objects::nonNull).forEach(list::add);
      return list;
    });
  }

  private static JsonObject describe(String provider, String deliveryId, Map<String, String> f) {
    JsonObject out = new JsonObject().put("delivery_id", deliveryId).put("provider", provider).put("type", f.get("type"));
    Long received = DeadLetters.longOrNull(f.get("received"));
    out.put("received", received == null ? null : Instant.ofEpochMilli(received).toString()).put("received_ms", received);
    String outcome = f.get("outcome");
    if ("handled".equals(outcome) && f.containsKey("skipped")) {
      outcome = "skipped";
      out.put("reason", f.get("skipped"));
    }
    out.put("deliveries", number(f, "deliveries")).put("attempts", number(f, "attempts")).put("outcome", outcome);
    putIfPresent(out, "handler", f.get("handler"));
    putIfPresent(out, "result", f.get("result"));
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
