package dev.biogate.events;

import dev.biogate.config.WebhookOptions;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import dev.biogate.stream.StreamEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.util.List;
import java.util.function.LongSupplier;

/**
 * The dead-letter stream ({@code bg:events:{bg}:dead}): deliveries whose handling failed {@code maxAttempts} times,
 * with the reason of the last failure. Listing never shows payloads. A replay moves an entry back onto the events
 * stream atomically ({@code redis/dead_letter_replay.lua}) with a fresh set of attempts.
 */
public final class DeadLetters {

  private static final int REPLAY_PAGE = 100;

  private final Redis redis;
  private final WebhookOptions options;
  private final LongSupplier clock;
  private final LuaScript replay = LuaScript.load("dead_letter_replay");

  public DeadLetters(Redis redis, WebhookOptions options, LongSupplier clock) {
    this.redis = redis;
    this.options = options;
    this.clock = clock;
  }

  /** {@code {"count": n, "dead_letters": [...oldest first, at most limit]}}. */
  public Future<JsonObject> list(int limit) {
    return Future.all(redis.send(Request.cmd(Command.XLEN).arg(RedisKeys.DEAD_LETTERS)),
        redis.send(Request.cmd(Command.XRANGE).arg(RedisKeys.DEAD_LETTERS).arg("-").arg("+").arg("COUNT").arg(limit)))
      .map(all -> {
        JsonArray items = new JsonArray();
        for (StreamEntry e : StreamEntry.entries(all.resultAt(1))) {
          items.add(describe(e));
        }
        return new JsonObject().put("count", all.<io.vertx.redis.client.Response>resultAt(0).toLong()).put("dead_letters", items);
      });
  }

  /** Replays one dead letter; completes with the new events-stream id, or {@code null} if there is no such entry. */
  public Future<String> replay(String id) {
    return redis.send(Request.cmd(Command.XRANGE).arg(RedisKeys.DEAD_LETTERS).arg(id).arg(id)).compose(r -> {
      List<StreamEntry> found = StreamEntry.entries(r);
      if (found.isEmpty()) {
        return Future.succeededFuture(null);
      }
      StreamEntry e = found.get(0);
      String history = historyKey(e);
      return replay.run(redis, List.of(RedisKeys.DEAD_LETTERS, RedisKeys.EVENTS_STREAM, history),
          List.of(id, Long.toString(options.streamMaxLen()), Long.toString(clock.getAsLong()), Long.toString(options.dedupeWindowS())))
        .map(newId -> newId == null ? null : newId.toString());
    });
  }

  /** Replays every dead letter present when the call starts; completes with how many were replayed. */
  public Future<Integer> replayAll() {
    return redis.send(Request.cmd(Command.XLEN).arg(RedisKeys.DEAD_LETTERS)).compose(len -> replayPage(len.toLong(), 0));
  }

  private Future<Integer> replayPage(long remaining, int done) {
    if (remaining <= 0) {
      return Future.succeededFuture(done);
    }
    int page = (int) Math.min(REPLAY_PAGE, remaining);
    return redis.send(Request.cmd(Command.XRANGE).arg(RedisKeys.DEAD_LETTERS).arg("-").arg("+").arg("COUNT").arg(page))
      .compose(r -> {
        List<StreamEntry> entries = StreamEntry.entries(r);
        if (entries.isEmpty()) {
          return Future.succeededFuture(done);
        }
        Future<Integer> chain = Future.succeededFuture(0);
        for (StreamEntry e : entries) {
          chain = chain.compose(n -> replay(e.id()).map(newId -> newId == null ? n : n + 1));
        }
        return chain.compose(n -> replayPage(remaining - entries.size(), done + n));
      });
  }

  private static JsonObject describe(StreamEntry e) {
    String body = e.get("body");
    return new JsonObject().put("id", e.id()).put("provider", e.get("provider")).put("delivery_id", e.get("delivery_id"))
      .put("type", e.get("type")).put("attempts", longOrNull(e.get("attempts"))).put("error", e.get("error"))
      .put("received", longOrNull(e.get("received"))).put("failed_at", longOrNull(e.get("failed_at")))
      .put("source_id", e.get("source_id")).put("body_bytes", body == null ? 0 : body.length());
  }

  /**
   * The history hash of a queued delivery ({@code provider} + {@code delivery_id}); an entry without them (never
   * written by the gateway) gets one of its own, so scripts always have a key in the stream's slot.
   */
  public static String historyKey(StreamEntry e) {
    String provider = e.get("provider");
    String id = e.get("delivery_id");
    return provider == null || id == null ? RedisKeys.webhookDelivery("unknown", e.id()) : RedisKeys.webhookDelivery(provider, id);
  }

  static Long longOrNull(String s) {
    try {
      return s == null ? null : Long.parseLong(s);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
