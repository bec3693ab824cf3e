package dev.biogate.stream;

import dev.biogate.support.Eventually;
import dev.biogate.support.RedisClientTest;
import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A busy stream is consumed as fast as its entries are finished, with a Redis cost per batch rather than per entry:
 * <ul>
 *   <li>an engine whose slots are all taken reads again as soon as half of them are free, not a poll interval later
 *       (with a one-minute poll, 1,000 entries through 50 slots would otherwise take twenty minutes);</li>
 *   <li>entries a handler finishes in one turn (the click counter finishes a whole read at once) are acknowledged by
 *       one script call: Redis sees far fewer script calls than entries, and every entry is acknowledged and deleted;</li>
 *   <li>what a handler did ({@link Outcome#done(List)} notes) reaches each entry's history with the acknowledgement,
 *       at no extra call per entry; a history that does not exist (expired) is not recreated.</li>
 * </ul>
 */
class BatchedConsumptionTest extends RedisClientTest {

  private static final String STREAM = "bg:test:{batched}:s";
  private static final String GROUP = "g";
  private static final int ENTRIES = 1_000;
  private static final int HELD = 50;

  @Test
  void aFullEngineReadsAgainWhenRoomFreesAndAcknowledgesABatchInOneCall(Vertx vertx, VertxTestContext ctx) {
    AtomicInteger handled = new AtomicInteger();
    // Finishes everything handed over in one turn together, as the click counter does.
    List<Promise<Outcome>> turn = new ArrayList<>();
    StreamHandler batching = e -> {
      Promise<Outcome> p = Promise.promise();
      if (turn.isEmpty()) {
        vertx.runOnContext(v -> {
          List<Promise<Outcome>> all = new ArrayList<>(turn);
          turn.clear();
          all.forEach(q -> {
            handled.incrementAndGet();
            q.complete(Outcome.done());
          });
        });
      }
      turn.add(p);
      return p.future();
    };
    StreamPolicy policy = new StreamPolicy(STREAM, GROUP).soleReader(true).maxHeld(HELD).pollMs(60_000)
      .heartbeatTtlMs(3_000).idleClaimMs(30_000);
    long[] evalsBefore = new long[1];
    redis.send(Request.cmd(Command.DEL).arg(STREAM).arg(policy.attemptsKey()))
      .compose(v -> fill())
      .compose(v -> TestRedis.commandCalls(redis, "evalsha", "eval")).onSuccess(n -> evalsBefore[0] = n)
      .compose(n -> vertx.deployVerticle(new StreamEngine(redis, policy, "c1", batching, new StreamStats())))
      .compose(id -> Eventually.until(vertx, () -> Future.succeededFuture(handled.get() == ENTRIES), 20_000)
        .compose(v -> Eventually.until(vertx, () -> pending().map(n -> n == 0), 10_000))
        .compose(v -> Future.all(redis.send(Request.cmd(Command.XLEN).arg(STREAM)), TestRedis.commandCalls(redis, "evalsha", "eval")))
        .map(all -> {
          assertEquals(0L, all.<io.vertx.redis.client.Response>resultAt(0).toLong(), "every entry acknowledged and deleted");
          long calls = all.<Long>resultAt(1) - evalsBefore[0];
          // Reads of up to 50 entries: about 20 acknowledgement calls (plus heartbeats and trims), never one per entry.
          assertTrue(calls < ENTRIES / 5, "script calls for " + ENTRIES + " entries: " + calls);
          return null;
        }))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void notesReachEachHistoryWithTheAcknowledgementAtNoExtraCall(Vertx vertx, VertxTestContext ctx) {
    int entries = 200;
    StreamHandler noting = e -> Future.succeededFuture(
      Outcome.done(List.of("handler", "test.notes", "result", "did " + e.get("n"))));
    StreamPolicy policy = new StreamPolicy(STREAM, GROUP).soleReader(true).maxHeld(HELD).pollMs(60_000)
      .heartbeatTtlMs(3_000).idleClaimMs(30_000).history(e -> history(e.get("n")), 600);
    long[] evalsBefore = new long[1];
    List<Future<?>> setup = new ArrayList<>();
    for (int i = 0; i < entries; i++) {
      // Every entry but the last has a history, as ingestion writes it.
      setup.add(i == entries - 1 ? redis.send(Request.cmd(Command.DEL).arg(history(Integer.toString(i))))
        : redis.send(Request.cmd(Command.HSET).arg(history(Integer.toString(i))).arg("outcome").arg("queued")));
    }
    redis.send(Request.cmd(Command.DEL).arg(STREAM).arg(policy.attemptsKey()))
      .compose(v -> Future.all(setup))
      .compose(v -> fill(entries))
      .compose(v -> TestRedis.commandCalls(redis, "evalsha", "eval")).onSuccess(n -> evalsBefore[0] = n)
      .compose(n -> vertx.deployVerticle(new StreamEngine(redis, policy, "c1", noting, new StreamStats())))
      // Every entry read, handled, acknowledged and deleted (the sole reader deletes what it acknowledges).
      .compose(id -> Eventually.until(vertx, () -> redis.send(Request.cmd(Command.XLEN).arg(STREAM))
        .compose(len -> pending().map(n -> len.toLong() == 0 && n == 0)), 20_000))
      .compose(v -> TestRedis.commandCalls(redis, "evalsha", "eval").map(n -> n - evalsBefore[0]))
      .compose(calls -> {
        assertTrue(calls < entries / 5, "script calls for " + entries + " noted entries: " + calls);
        List<Future<io.vertx.redis.client.Response>> reads = new ArrayList<>();
        for (int i = 0; i < entries; i++) {
          reads.add(redis.send(Request.cmd(Command.HGETALL).arg(history(Integer.toString(i)))));
        }
        return Future.all(reads).map(all -> {
          for (int i = 0; i < entries - 1; i++) {
            java.util.Map<String, String> h = StreamEntry.fields(reads.get(i).result());
            assertEquals("handled", h.get("outcome"), "entry " + i + ": " + h);
            assertEquals("test.notes", h.get("handler"), "entry " + i + ": " + h);
            assertEquals("did " + i, h.get("result"), "entry " + i + ": " + h);
            assertEquals("1", h.get("attempts"), "entry " + i + ": " + h);
          }
          assertEquals(0, reads.get(entries - 1).result().size(), "a missing history stays missing");
          return null;
        });
      })
      .onComplete(ctx.succeedingThenComplete());
  }

  private static String history(String n) {
    return "bg:test:{batched}:h:" + n;
  }

  private Future<Void> fill() {
    return fill(ENTRIES);
  }

  private Future<Void> fill(int entries) {
    List<Future<?>> adds = new ArrayList<>();
    for (int i = 0; i < entries; i++) {
      adds.add(redis.send(Request.cmd(Command.XADD).arg(STREAM).arg("*").arg("n").arg(i)));
    }
    return Future.all(adds).compose(v -> redis.send(Request.cmd(Command.XGROUP).arg("CREATE").arg(STREAM).arg(GROUP).arg("0")))
      .mapEmpty();
  }

  private Future<Long> pending() {
    return redis.send(Request.cmd(Command.XPENDING).arg(STREAM).arg(GROUP)).map(r -> r.get(0).toLong());
  }

}
