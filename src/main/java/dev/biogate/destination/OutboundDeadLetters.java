package dev.biogate.destination;

import dev.biogate.http.ApiException;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.ReplicaWatch;
import dev.biogate.stream.StreamEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Outbound deliveries that exhausted their attempts (listing without payloads, replay of one), and the history of
 * each delivery by {@code webhook-id}: its outcome, attempt count and every attempt's answer. A replay is answered
 * only once a replica holds it where the outbound stream's master has one, or {@code 503 not_replicated}.
 */
public final class OutboundDeadLetters {

  static final ApiException NOT_REPLICATED = ApiException.notReplicated("the replay");

  private final Redis redis;
  private final long ttlS;
  private final LuaScript replay = LuaScript.load("stream_replay");
  private final ReplicaWatch replicas;
  private final int master;
  private final long waitMs;

  public OutboundDeadLetters(Redis redis, long ttlS, ReplicaWatch replicas, long waitMs) {
    this.redis = redis;
    this.ttlS = ttlS;
    this.replicas = replicas;
    this.master = replicas.indexOf(OutboundKeys.DEAD);
    this.waitMs = waitMs;
  }

  /** {@code {"count": n, "dead_letters": [...oldest first, at most limit]}}. */
  public Future<JsonObject> list(int limit) {
    return Future.all(redis.send(Request.cmd(Command.XLEN).arg(OutboundKeys.DEAD)),
        redis.send(Request.cmd(Command.XRANGE).arg(OutboundKeys.DEAD).arg("-").arg("+").arg("COUNT").arg(limit)))
      .map(all -> {
        JsonArray items = new JsonArray();
        for (StreamEntry e : StreamEntry.entries(all.resultAt(1))) {
          items.add(new JsonObject().put("id", e.id()).put("destination", e.get("destination"))
            .put("webhook_id", e.get("webhook_id")).put("type", e.get("type")).put("delivery_id", e.get("delivery_id"))
            .put("attempts", e.get("attempts") == null ? null : Long.valueOf(e.get("attempts"))).put("error", e.get("error")));
        }
        return new JsonObject().put("count", all.<Response>resultAt(0).toLong()).put("dead_letters", items);
      });
  }

  /** Replays one dead letter; completes with the new outbound id, or {@code null} if there is no such entry. */
  public Future<String> replay(String id) {
    return redis.send(Request.cmd(Command.XRANGE).arg(OutboundKeys.DEAD).arg(id).arg(id)).compose(r -> {
      List<StreamEntry> found = StreamEntry.entries(r);
      if (found.isEmpty() || found.get(0).get("webhook_id") == null) {
        return Future.succeededFuture(null);
      }
      String history = OutboundKeys.history(found.get(0).get("webhook_id"));
      return replicas.durably(master, redis, replay, List.of(OutboundKeys.DEAD, OutboundKeys.STREAM, history),
          List.of(id, Long.toString(System.currentTimeMillis()), Long.toString(ttlS), "0"), waitMs, NOT_REPLICATED)
        .map(x -> x == null ? null : x.toString());
    });
  }

  /** The history of one delivery, or {@code null}. */
  public Future<JsonObject> history(String webhookId) {
    return Future.all(redis.send(Request.cmd(Command.HGETALL).arg(OutboundKeys.history(webhookId))),
      redis.send(Request.cmd(Command.LRANGE).arg(OutboundKeys.attempts(webhookId)).arg(0).arg(-1))).map(all -> {
        Map<String, String> f = StreamEntry.fields(all.resultAt(0));
        if (f.isEmpty()) {
          return null;
        }
        JsonArray attempts = new JsonArray();
        Response list = all.resultAt(1);
        if (list != null) {
          for (Response a : list) {
            attempts.add(new JsonObject(a.toString()));
          }
        }
        JsonObject out = new JsonObject().put("webhook_id", webhookId).put("destination", f.get("destination"))
          .put("type", f.get("type")).put("provider", f.get("provider")).put("delivery_id", f.get("delivery_id"))
          .put("outcome", f.get("outcome")).put("attempts", Long.parseLong(f.getOrDefault("attempts", "0")))
          .put("attempt_log", attempts);
        if (f.get("last_error") != null) {
          out.put("last_error", f.get("last_error"));
        }
        if (f.get("replays") != null) {
          out.put("replays", Long.parseLong(f.get("replays")));
        }
        if (f.get("handled_at") != null) {
          out.put("delivered_at", Instant.ofEpochMilli(Long.parseLong(f.get("handled_at"))).toString());
        }
        return out;
      });
  }
}
