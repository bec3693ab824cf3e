package dev.biogate.analytics;

import dev.biogate.redis.LuaScript;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Redis commands of one consumer of one consumer group: create the group, read new or own pending entries,
 * claim entries of dead consumers, acknowledge, and leave. Every command has a timeout, so an unreachable Redis fails
 * fast instead of stalling the reader.
 */
final class StreamGroup {

  private static final long TIMEOUT_MS = 5_000;

  private final Redis redis;
  private final String stream;
  private final String group;
  private final String consumer;
  private final LuaScript retire = LuaScript.load("stream_consumer_retire");
  private String claimCursor = "0-0";

  StreamGroup(Redis redis, String stream, String group, String consumer) {
    this.redis = redis;
    this.stream = stream;
    this.group = group;
    this.consumer = consumer;
  }

  String stream() {
    return stream;
  }

  String group() {
    return group;
  }

  /** {@code XGROUP CREATE ... 0 MKSTREAM}: a new group starts at the stream's beginning; an existing one is kept. */
  Future<Void> ensure() {
    return redis.send(Request.cmd(Command.XGROUP).arg("CREATE").arg(stream).arg(group).arg("0").arg("MKSTREAM"))
      .timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .<Void>mapEmpty()
      .recover(err -> String.valueOf(err.getMessage()).startsWith("BUSYGROUP") ? Future.succeededFuture() : Future.failedFuture(err));
  }

  /** {@code from} = {@code ">"} for new entries, {@code "0"} for this consumer's own pending ones. */
  Future<List<StreamRecord>> read(String from, int count) {
    return redis.send(Request.cmd(Command.XREADGROUP).arg("GROUP").arg(group).arg(consumer)
        .arg("COUNT").arg(count).arg("STREAMS").arg(stream).arg(from))
      .timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .map(StreamRecord::fromRead);
  }

  /** One {@code XAUTOCLAIM} step over the group's pending entries idle at least {@code minIdleMs}. */
  Future<List<StreamRecord>> claim(long minIdleMs, int count) {
    return redis.send(Request.cmd(Command.XAUTOCLAIM).arg(stream).arg(group).arg(consumer)
        .arg(minIdleMs).arg(claimCursor).arg("COUNT").arg(count))
      .timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .map(reply -> {
        claimCursor = reply.get(0).toString();
        return StreamRecord.entries(reply.get(1));
      });
  }

  /** Whether the last claim step finished a full pass over the pending entries. */
  boolean claimPassDone() {
    return "0-0".equals(claimCursor);
  }

  Future<Void> ack(List<String> ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    Request r = Request.cmd(Command.XACK).arg(stream).arg(group);
    ids.forEach(r::arg);
    return redis.send(r).timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS).mapEmpty();
  }

  /** Leaves the group if nothing is pending for this consumer (see redis/stream_consumer_retire.lua). */
  Future<Void> leave() {
    return retire.run(redis, List.of(stream), List.of(group, consumer)).timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .<Void>mapEmpty().otherwiseEmpty();
  }
}
