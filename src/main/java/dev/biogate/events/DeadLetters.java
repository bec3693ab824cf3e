package dev.biogate.events;

import dev.biogate.config.WebhookOptions;
import dev.biogate.http.ApiException;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.ReplicaWatch;
import dev.biogate.stream.StreamEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The dead-letter streams, one per events shard ({@code bg:events:{bg:s<n>}:dead}): deliveries whose handling failed
 * {@code maxAttempts} times, with the reason of the last failure. Listing merges the shards oldest first and never
 * shows payloads. A replay moves an entry back onto its own shard's events stream atomically
 * ({@code redis/stream_replay.lua}) with a fresh set of attempts, and is answered only once a replica holds the
 * move where the shard's master has one ({@link ReplicaWatch#durably}); otherwise a failover could put the entry back
 * among the dead letters after a 200. Shards are independent streams, so two of them can hold the same entry id: the
 * listing says each one's shard, and a replay names it.
 */
public final class DeadLetters {

  private static final int REPLAY_PAGE = 100;
  static final ApiException NOT_REPLICATED = ApiException.notReplicated("the replay");

  private final Redis redis;
  private final WebhookOptions options;
  private final LongSupplier clock;
  private final int shards;
  private final LuaScript replay = LuaScript.load("stream_replay");
  private final ReplicaWatch replicas;

  public DeadLetters(Redis redis, WebhookOptions options, LongSupplier clock, ReplicaWatch replicas) {
    this.redis = redis;
    this.options = options;
    this.clock = clock;
    this.shards = options.shards();
    this.replicas = replicas;
  }

  /** {@code {"count": n, "dead_letters": [...oldest first over every shard, at most limit]}}. */
  public Future<JsonObject> list(int limit) {
    List<Future<Response>> lens = new ArrayList<>(shards);
    List<Future<Response>> pages = new ArrayList<>(shards);
    for (int s = 0; s < shards; s++) {
      lens.add(redis.send(Request.cmd(Command.XLEN).arg(RedisKeys.deadLettersShard(s))));
      pages.add(redis.send(Request.cmd(Command.XRANGE).arg(RedisKeys.deadLettersShard(s)).arg("-").arg("+").arg("COUNT").arg(limit)));
    }
    return Future.all(Future.all(lens), Future.all(pages)).map(all -> {
      long count = 0;
      List<JsonObject> found = new ArrayList<>();
      for (int s = 0; s < shards; s++) {
        count += lens.get(s).result().toLong();
        for (StreamEntry e : StreamEntry.entries(pages.get(s).result())) {
          found.add(describe(e).put("shard", s));
        }
      }
      found.sort(Comparator.comparingLong((JsonObject o) -> idPart(o.getString("id"), 0)).thenComparingLong(o -> idPart(o.getString("id"), 1)));
      JsonArray items = new JsonArray();
      found.stream().limit(limit).forEach(items::add);
      return new JsonObject().put("count", count).put("dead_letters", items);
    });
  }

  /**
   * Replays one dead letter: the one carrying {@code id} on the lowest shard that has one; completes with the new
   * events-stream id, or {@code null} if no shard holds it. Ids are per shard: when two shards hold the same id, the
   * listing's {@code shard} picks the other ({@link #replay(int, String)}).
   */
  public Future<String> replay(String id) {
    Future<String> chain = Future.succeededFuture(null);
    for (int s = 0; s < shards; s++) {
      int shard = s;
      chain = chain.compose(done -> done != null ? Future.succeededFuture(done) : replay(shard, id));
    }
    return chain;
  }

  public int shards() {
    return shards;
  }

  /**
   * Replays one dead letter of one shard; completes with the new events-stream id, or {@code null} if it has none. Fails
   * with {@code 503 not_replicated} when no replica acknowledged the move in time: it may stand or be undone by a
   * failover, and a retry either finds it gone (404) or moves it.
   */
  public Future<String> replay(int shard, String id) {
    String dead = RedisKeys.deadLettersShard(shard);
    return redis.send(Request.cmd(Command.XRANGE).arg(dead).arg(id).arg(id)).compose(r -> {
      List<StreamEntry> found = StreamEntry.entries(r);
      if (found.isEmpty()) {
        return Future.succeededFuture(null);
      }
      String history = historyKey(shard, found.get(0));
      return replicas.durably(shard, redis, replay, List.of(dead, RedisKeys.eventsShard(shard), history),
          List.of(id, Long.toString(clock.getAsLong()), Long.toString(options.dedupeWindowS()), "1"), options.replicaWaitMs(),
          NOT_REPLICATED)
        .map(newId -> newId == null ? null : newId.toString());
    });
  }

  /** Replays every dead letter present when the call starts, shard after shard; completes with how many were replayed. */
  public Future<Integer> replayAll() {
    Future<Integer> chain = Future.succeededFuture(0);
    for (int s = 0; s < shards; s++) {
      int shard = s;
      String dead = RedisKeys.deadLettersShard(s);
      chain = chain.compose(n -> redis.send(Request.cmd(Command.XLEN).arg(dead)).compose(len -> replayPage(shard, len.toLong(), n)));
    }
    return chain;
  }

  private Future<Integer> replayPage(int shard, long remaining, int done) {
    if (remaining <= 0) {
      return Future.succeededFuture(done);
    }
    int page = (int) Math.min(REPLAY_PAGE, remaining);
    return redis.send(Request.cmd(Command.XRANGE).arg(RedisKeys.deadLettersShard(shard)).arg("-").arg("+").arg("COUNT").arg(page))
      .compose(r -> {
        List<StreamEntry> entries = StreamEntry.entries(r);
        if (entries.isEmpty()) {
          return Future.succeededFuture(done);
        }
        Future<Integer> chain = Future.succeededFuture(0);
        for (StreamEntry e : entries) {
          chain = chain.compose(n -> replay(shard, e.id()).map(newId -> newId == null ? n : n + 1));
        }
        return chain.compose(n -> replayPage(shard, remaining - entries.size(), done + n));
      });
  }

  private static long idPart(String id, int part) {
    int dash = id.indexOf('-');
    Long v = longOrNull(part == 0 ? id.substring(0, dash) : id.substring(dash + 1));
    return v == null ? 0 : v;
  }

  private static JsonObject describe(StreamEntry e) {
    String body = e.get("body");
    return new JsonObject().put("id", e.id()).put("provider", e.get("provider")).put("delivery_id", e.get("delivery_id"))
      .put("type", e.get("type")).put("attempts", longOrNull(e.get("attempts"))).put("error", e.get("error"))
      .put("received", longOrNull(e.get("received"))).put("failed_at", longOrNull(e.get("failed_at")))
      .put("source_id", e.get("source_id")).put("body_bytes", body == null ? 0 : body.length());
  }

  /**
   * The history hash of a delivery queued on {@code shard} ({@code provider} + {@code delivery_id}); an entry without
   * them (never written by the gateway) gets one of its own, so scripts always have a key in the stream's slot.
   */
  public static String historyKey(int shard, StreamEntry e) {
    String provider = e.get("provider");
    String id = e.get("delivery_id");
    return provider == null || id == null ? RedisKeys.webhookDelivery(shard, "unknown", e.id())
      : RedisKeys.webhookDelivery(shard, provider, id);
  }

  static Long longOrNull(String s) {
    try {
      return s == null ? null : Long.parseLong(s);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
