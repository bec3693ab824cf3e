package dev.biogate.stream;

import dev.biogate.support.Eventually;
import dev.biogate.support.RedisClientTest;
import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An entry pending under this engine's own consumer that the engine never received: a read whose reply was lost
 * (the connection replaced under it during a Sentinel failover) leaves the entries it delivered pending under the
 * reader. A drill found two webhook events stuck like that for minutes, their lag growing: the reaper takes over idle
 * entries of other consumers only, and a live engine reads only new entries. It now also takes back its own entries
 * idle for twice {@code idleClaimMs} (never one it holds: kept entries stay idle for other consumers to take first).
 */
class OwnOrphanTest extends RedisClientTest {

  private static final String STREAM = "bg:test:{orphan}:s";
  private static final String GROUP = "g";

  private final List<String> handled = new CopyOnWriteArrayList<>();

  @Test
  void anEntryPendingUnderThisConsumerButNeverReceivedIsHandled(Vertx vertx, VertxTestContext ctx) {
    // No second read for a minute: only a take-over can bring the entry back.
    StreamPolicy policy = new StreamPolicy(STREAM, GROUP).soleReader(true).pollMs(60_000).idlePollMaxMs(60_000)
      .heartbeatTtlMs(2_000).idleClaimMs(200);
    reading(vertx, policy)
      .compose(v -> redis.send(Request.cmd(Command.XADD).arg(STREAM).arg("*").arg("n").arg("1")))
      // A read as this engine's consumer whose reply the engine never sees.
      .compose(v -> redis.send(Request.cmd(Command.XREADGROUP).arg("GROUP").arg(GROUP).arg("c1").arg("COUNT").arg(10)
        .arg("STREAMS").arg(STREAM).arg(">")))
      .compose(v -> handledOnce(vertx, STREAM))
      .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * The same after a read that timed out but was served: Redis was paused longer than the read's timeout, then ran
   * the queued read, handing the entry to this consumer after the engine had given up on the reply. For a while after
   * a failed read the engine takes back its own entries idle for twice the command timeout, not twice
   * {@code idleClaimMs} (here 30 s: a minute of lag, past the lag alert).
   */
  @Test
  void anEntryServedToATimedOutReadIsHandledWithinSeconds(Vertx vertx, VertxTestContext ctx) {
    String stream = STREAM + ":paused";
    StreamPolicy policy = new StreamPolicy(stream, GROUP).soleReader(true).pollMs(100).idlePollMaxMs(100)
      .heartbeatTtlMs(2_000).idleClaimMs(30_000).commandTimeoutMs(300);
    reading(vertx, policy)
      // Writes (XREADGROUP is one) wait 1.5 s; the entry is added first, so a read queued behind it is served it.
      .compose(v -> redis.send(Request.cmd(Command.CLIENT).arg("PAUSE").arg(1_500).arg("WRITE")))
      .compose(v -> {
        redis.send(Request.cmd(Command.XADD).arg(stream).arg("*").arg("n").arg("1"));
        return handledOnce(vertx, stream);
      })
      .onComplete(ctx.succeedingThenComplete());
  }

  /** A fresh stream and group, and an engine (consumer {@code c1}, recording what it handles) past its first read. */
  private Future<Void> reading(Vertx vertx, StreamPolicy policy) {
    StreamHandler recording = e -> {
      handled.add(e.get("n"));
      return Future.succeededFuture(Outcome.done());
    };
    StreamEngine engine = new StreamEngine(redis, policy, "c1", recording, new StreamStats());
    long[] readsBefore = new long[1];
    return redis.send(Request.cmd(Command.DEL).arg(policy.stream()))
      .compose(v -> redis.send(Request.cmd(Command.XGROUP).arg("CREATE").arg(policy.stream()).arg(GROUP).arg("$").arg("MKSTREAM")))
      .compose(v -> TestRedis.commandCalls(redis, "xreadgroup")).onSuccess(n -> readsBefore[0] = n)
      .compose(v -> vertx.deployVerticle(engine))
      .compose(id -> Eventually.until(vertx, () -> TestRedis.commandCalls(redis, "xreadgroup").map(n -> n > readsBefore[0]),
        10_000, "the engine's first read"));
  }

  /** The entry {@code n=1} handled, nothing left pending, and it was handled once. */
  private Future<Void> handledOnce(Vertx vertx, String stream) {
    return Eventually.until(vertx, () -> Future.succeededFuture(handled.contains("1")), 10_000, "the entry handled")
      .compose(v -> Eventually.until(vertx, () -> redis.send(Request.cmd(Command.XPENDING).arg(stream).arg(GROUP))
        .map(r -> r.get(0).toLong() == 0), 10_000, "nothing left pending"))
      .compose(v -> List.of("1").equals(handled) ? Future.<Void>succeededFuture()
        : Future.failedFuture(new AssertionError("handled once, but handled: " + handled)));
  }
}
