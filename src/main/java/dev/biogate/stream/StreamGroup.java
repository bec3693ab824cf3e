package dev.biogate.stream;

import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisTimeoutException;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.List;

/**
 * The Redis side of one consumer in one group: every command the engine sends, each with a timeout. Multi-step
 * changes are Lua scripts ({@code redis/stream_*.lua}) whose headers give the atomicity arguments.
 */
final class StreamGroup {

  /**
   * What a failed attempt led to: retry later; dead-lettered; gone (another consumer finished the entry); or due for
   * the dead letters while they are at their ceiling (the entry stays pending, tried again later).
   */
  enum AfterFailure { RETRY, DEAD_LETTERED, GONE, DEAD_LETTERS_FULL }

  record Failure(AfterFailure next, int attempts) {
  }

  /** One reap: entries claimed from dead consumers, ids found deleted, consumers removed. */
  record Reaped(List<StreamEntry> claimed, List<String> lost, int removed) {
  }

  private static final LuaScript ACK = LuaScript.load("stream_ack");
  private static final LuaScript FAIL = LuaScript.load("stream_fail");
  private static final LuaScript BEAT = LuaScript.load("stream_beat");
  private static final LuaScript REAP = LuaScript.load("stream_reap");
  private static final LuaScript RETIRE = LuaScript.load("stream_consumer_retire");
  private static final LuaScript TRIM = LuaScript.load("stream_trim");
  private static final LuaScript TOUCH = LuaScript.load("stream_touch");

  private final Redis redis;
  private final Redis liveness;
  private final StreamPolicy p;
  private final String consumer;

  /** {@code liveness} carries the heartbeat and touches, so a storm of work on {@code redis} cannot starve them. */
  StreamGroup(Redis redis, Redis liveness, StreamPolicy policy, String consumer) {
    this.redis = redis;
    this.liveness = liveness;
    this.p = policy;
    this.consumer = consumer;
  }

  /** {@code XGROUP CREATE ... 0 MKSTREAM}: a new group starts at the stream's beginning; an existing one is kept. */
  Future<Void> ensure() {
    return send(Request.cmd(Command.XGROUP).arg("CREATE").arg(p.stream()).arg(p.group()).arg("0").arg("MKSTREAM"))
      .<Void>mapEmpty()
      .recover(err -> isError(err, "BUSYGROUP") ? Future.succeededFuture() : Future.failedFuture(err));
  }

  Future<List<StreamEntry>> read(int count) {
    return send(Request.cmd(Command.XREADGROUP).arg("GROUP").arg(p.group()).arg(consumer).arg("COUNT").arg(count)
      .arg("STREAMS").arg(p.stream()).arg(">")).map(StreamEntry::fromRead);
  }

  /** An entry whose handler answered DONE, with its history notes (field/value pairs). */
  record Finished(StreamEntry entry, List<String> notes) { }

  /** Acknowledges finished entries in one call, their notes included (see {@code redis/stream_ack.lua}). */
  Future<Void> ack(List<Finished> entries, long nowMs) {
    List<String> keys = new ArrayList<>(2 + entries.size());
    keys.add(p.stream());
    keys.add(p.attemptsKey());
    List<String> args = new ArrayList<>(3 + 3 * entries.size());
    args.add(p.group());
    args.add(Long.toString(nowMs));
    args.add(p.soleReader() ? "1" : "0");
    for (Finished f : entries) {
      String history = p.historyKey(f.entry());
      args.add(f.entry().id());
      args.add(history == null ? "0" : "1");
      if (history != null) {
        keys.add(history);
        args.add(Integer.toString(f.notes().size()));
        args.addAll(f.notes());
      } else {
        args.add("0");
      }
    }
    return run(ACK, keys, args).mapEmpty();
  }

  Future<Failure> fail(StreamEntry e, String reason, boolean dead, long nowMs) {
    return run(FAIL, keys(e, p.stream(), p.attemptsKey(), p.deadLetters()), List.of(p.group(), e.id(),
        Integer.toString(p.maxAttempts()), Long.toString(nowMs), reason == null ? "error" : reason,
        Long.toString(p.historyTtlS()), Long.toString(p.deadLetterCap()), p.soleReader() ? "1" : "0", dead ? "1" : "0"))
      .map(r -> {
        int code = r.get(0).toInteger();
        AfterFailure next = switch (code) {
          case 0 -> AfterFailure.RETRY;
          case 1 -> AfterFailure.DEAD_LETTERED;
          case 3 -> AfterFailure.DEAD_LETTERS_FULL;
          default -> AfterFailure.GONE;
        };
        return new Failure(next, r.get(1).toInteger());
      });
  }

  Future<Void> beat() {
    return RedisTimeoutException.within(
      BEAT.run(liveness, List.of(p.consumersKey()), List.of(consumer, Long.toString(p.heartbeatTtlMs()))), p.commandTimeoutMs()).mapEmpty();
  }

  /** {@code ownIdleMs}: this consumer's own pending entries idle this long are taken back (see stream_reap.lua). */
  Future<Reaped> reap(int room, long ownIdleMs) {
    return run(REAP, List.of(p.stream(), p.consumersKey()), List.of(p.group(), consumer, Long.toString(p.heartbeatTtlMs()),
        Integer.toString(room), Long.toString(p.idleClaimMs()), Long.toString(ownIdleMs)))
      .map(r -> {
        List<String> lost = new ArrayList<>();
        r.get(1).forEach(id -> lost.add(id.toString()));
        return new Reaped(StreamEntry.entries(r.get(0)), lost, r.get(2).toInteger());
      });
  }

  /**
   * Resets the idle time of the entries worked on, checks ownership of the kept ones ({@code "?"} + id); completes
   * with the ids this consumer no longer owns.
   */
  Future<List<String>> touch(List<String> ids) {
    List<String> args = new ArrayList<>(ids.size() + 2);
    args.add(p.group());
    args.add(consumer);
    args.addAll(ids);
    return RedisTimeoutException.within(TOUCH.run(liveness, List.of(p.stream()), args), p.commandTimeoutMs()).map(r -> {
      List<String> lost = new ArrayList<>();
      if (r != null) {
        r.forEach(id -> lost.add(id.toString()));
      }
      return lost;
    });
  }

  /**
   * Whether this consumer still owns the entry, its idle time reset in the same step ({@code stream_touch.lua}); on
   * the work client, not the liveness one: it runs once per confirmed attempt, and a burst of them must not delay a
   * heartbeat.
   */
  Future<Boolean> own(String id) {
    List<String> keys = List.of(p.stream());
    List<String> args = List.of(p.group(), consumer, id);
    int wanted = p.confirmReplicas();
    if (wanted == 0) {
      return run(TOUCH, keys, args).map(r -> r == null || r.size() == 0);
    }
    return RedisTimeoutException.within(TOUCH.runAndWait(redis, keys, args, wanted, p.confirmWaitMs()),
        p.commandTimeoutMs() + p.confirmWaitMs())
      .compose(r -> {
        boolean fellShort = p.confirmFellShort(r.replicas(), wanted);
        boolean owned = r.reply() == null || r.reply().size() == 0;
        return owned && fellShort ? Future.failedFuture(new NoReplica()) : Future.succeededFuture(owned);
      });
  }

  /** An ownership check no replica acknowledged: it may not survive a switch of masters. Stackless. */
  static final class NoReplica extends io.vertx.core.VertxException {
    NoReplica() {
      super("no replica acknowledged the ownership check", true);
    }
  }

  /** Leaves the group when nothing is pending here; else marks this consumer dead so others claim its entries now. */
  Future<Void> retire() {
    return run(RETIRE, List.of(p.stream(), p.consumersKey()), List.of(p.group(), consumer)).mapEmpty();
  }

  /** Drops a pending entry whose data is gone from the stream (reported lost by the caller). */
  Future<Void> forget(String id) {
    return send(Request.cmd(Command.XACK).arg(p.stream()).arg(p.group()).arg(id)).mapEmpty();
  }

  /** Trims entries every group has finished; completes with how many. */
  Future<Long> trim() {
    return run(TRIM, List.of(p.stream()), List.of()).map(r -> r == null ? 0L : r.toLong());
  }

  static boolean isError(Throwable err, String prefix) {
    String m = err == null ? null : err.getMessage();
    if (m == null) {
      return false;
    }
    // Redis before 7 wraps an error raised inside a script: "ERR Error running script (call to f_...): @user_script:1:
    // NOGROUP ...". Read as another error, a group lost in a script (Redis came back empty) was taken for an outage.
    return m.startsWith(prefix) || m.startsWith("ERR Error running script") && m.contains(": " + prefix + " ");
  }

  private List<String> keys(StreamEntry e, String... fixed) {
    String history = p.historyKey(e);
    List<String> keys = new ArrayList<>(List.of(fixed));
    if (history != null) {
      keys.add(history);
    }
    return keys;
  }

  private Future<Response> run(LuaScript script, List<String> keys, List<String> args) {
    return RedisTimeoutException.within(script.run(redis, keys, args), p.commandTimeoutMs());
  }

  private Future<Response> send(Request r) {
    return RedisTimeoutException.within(redis.send(r), p.commandTimeoutMs());
  }
}
