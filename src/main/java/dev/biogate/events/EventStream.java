package dev.biogate.events;

import dev.biogate.config.WebhookOptions;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The non-blocking side of the events stream for one consumer (this instance): group creation, acknowledgement,
 * failed attempts and dead-lettering, heartbeats and reclaiming entries of dead consumers. Every multi-step change
 * is one Lua script (see {@code redis/event_*.lua} for the atomicity arguments).
 */
final class EventStream {

  /** What a failed attempt led to. */
  enum AfterFailure { RETRY, DEAD_LETTERED, GONE }

  /** The consequence of a failed attempt and how many attempts the delivery has had so far (cluster-wide). */
  record Failure(AfterFailure next, int attempts) {
  }

  static final String STREAM = RedisKeys.EVENTS_STREAM;
  static final String GROUP = RedisKeys.EVENTS_GROUP;

  private final Redis redis;
  private final WebhookOptions options;
  private final LongSupplier clock;
  private final String consumer;
  private final LuaScript ack = LuaScript.load("event_ack");
  private final LuaScript fail = LuaScript.load("event_fail");
  private final LuaScript touch = LuaScript.load("event_touch");
  private final LuaScript retire = LuaScript.load("stream_consumer_retire");

  EventStream(Redis redis, WebhookOptions options, LongSupplier clock, String consumer) {
    this.redis = redis;
    this.options = options;
    this.clock = clock;
    this.consumer = consumer;
  }

  String consumer() {
    return consumer;
  }

  /** Creates the group (and the stream) if missing; an existing group ({@code BUSYGROUP}) is fine. */
  Future<Void> ensureGroup() {
    return redis.send(Request.cmd(Command.XGROUP).arg("CREATE").arg(STREAM).arg(GROUP).arg("0").arg("MKSTREAM"))
      .<Void>mapEmpty()
      .recover(err -> isError(err, "BUSYGROUP") ? Future.succeededFuture() : Future.failedFuture(err));
  }

  /** The blocking read, sent by the consumer on its dedicated connection. */
  Request read(int count, long blockMs) {
    return Request.cmd(Command.XREADGROUP).arg("GROUP").arg(GROUP).arg(consumer).arg("COUNT").arg(count)
      .arg("BLOCK").arg(blockMs).arg("STREAMS").arg(STREAM).arg(">");
  }

  Future<Void> ack(StreamEntry e) {
    return ack.run(redis, keys(STREAM, history(e)), List.of(GROUP, e.id, Long.toString(clock.getAsLong()))).mapEmpty();
  }

  Future<Failure> failed(StreamEntry e, String reason) {
    return fail.run(redis, keys(STREAM, RedisKeys.DEAD_LETTERS, history(e)), List.of(GROUP, e.id,
        Integer.toString(options.maxAttempts()), Long.toString(clock.getAsLong()), reason,
        Long.toString(options.dedupeWindowS()), Long.toString(options.streamMaxLen())))
      .map(r -> {
        int code = r.get(0).toInteger();
        AfterFailure next = code == 0 ? AfterFailure.RETRY : code == 1 ? AfterFailure.DEAD_LETTERED : AfterFailure.GONE;
        return new Failure(next, r.get(1).toInteger());
      });
  }

  /** Resets the idle time of entries this consumer still owns; completes with the ids it no longer owns. */
  Future<List<String>> touch(List<String> ids) {
    List<String> args = new ArrayList<>(ids.size() + 2);
    args.add(GROUP);
    args.add(consumer);
    args.addAll(ids);
    return touch.run(redis, List.of(STREAM), args).map(r -> {
      List<String> lost = new ArrayList<>();
      if (r != null) {
        r.forEach(id -> lost.add(id.toString()));
      }
      return lost;
    });
  }

  /**
   * {@code XAUTOCLAIM}: takes over entries idle for at least {@code claimIdleMs} (their consumer stopped touching
   * them: it died or stalled) from {@code cursor}. Completes with the entries and the next cursor ({@code 0-0}
   * once the pending list has been walked).
   */
  Future<Claimed> claim(String cursor, int count) {
    return redis.send(Request.cmd(Command.XAUTOCLAIM).arg(STREAM).arg(GROUP).arg(consumer).arg(options.claimIdleMs())
        .arg(cursor).arg("COUNT").arg(count))
      .map(r -> new Claimed(r.get(0).toString(), StreamEntry.entries(r.get(1))));
  }

  /**
   * Leaves the group when nothing is pending for this consumer (a clean stop), so stopped instances do not pile up
   * in {@code XINFO CONSUMERS}; entries still pending keep the consumer until another instance claims them. One
   * script, because {@code XGROUP DELCONSUMER} discards the consumer's pending entries: checking and deleting in two
   * steps could drop an entry claimed in between.
   */
  Future<Void> retire() {
    return retire.run(redis, List.of(STREAM), List.of(GROUP, consumer)).mapEmpty();
  }

  /** Drops a pending entry whose data is gone (trimmed from the stream): there is nothing left to handle. */
  Future<Void> drop(String id) {
    return redis.send(Request.cmd(Command.XACK).arg(STREAM).arg(GROUP).arg(id)).mapEmpty();
  }

  static boolean isError(Throwable err, String prefix) {
    return err != null && err.getMessage() != null && err.getMessage().startsWith(prefix);
  }

  private static String history(StreamEntry e) {
    String k = e.historyKey();
    return k != null ? k : RedisKeys.webhookDelivery("unknown", e.id);
  }

  private static List<String> keys(String... keys) {
    return List.of(keys);
  }

  /** One {@code XAUTOCLAIM} page. */
  static final class Claimed {
    final String cursor;
    final List<StreamEntry> entries;

    Claimed(String cursor, List<StreamEntry> entries) {
      this.cursor = cursor;
      this.entries = entries;
    }
  }
}
