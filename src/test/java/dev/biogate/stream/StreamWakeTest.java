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
 * An engine pausing between empty reads (here a full minute) reads at once when this
 * process wakes it after queueing an entry: the entry is handled long before the next poll would have found it. The
 * wake goes through {@link StreamWakeups}, as ingest and the click writer call it.
 */
class StreamWakeTest extends RedisClientTest {

  private static final String STREAM = "bg:test:{wake}:s";
  private static final String GROUP = "g";

  @Test
  void aWokenEngineReadsWhatThisProcessQueuedWithoutWaitingForItsIdlePoll(Vertx vertx, VertxTestContext ctx) {
    List<String> handled = new CopyOnWriteArrayList<>();
    StreamHandler recording = e -> {
      handled.add(e.get("n"));
      return Future.succeededFuture(Outcome.done());
    };
    StreamPolicy policy = new StreamPolicy(STREAM, GROUP).soleReader(true).pollMs(60_000).idlePollMaxMs(60_000)
      .heartbeatTtlMs(3_000).idleClaimMs(30_000);
    StreamEngine engine = new StreamEngine(redis, policy, "c1", recording, new StreamStats());
    StreamWakeups wakeups = new StreamWakeups();
    long[] readsBefore = new long[1];
    wakeups.register(engine);
    redis.send(Request.cmd(Command.DEL).arg(STREAM))
      .compose(v -> redis.send(Request.cmd(Command.XGROUP).arg("CREATE").arg(STREAM).arg(GROUP).arg("$").arg("MKSTREAM")))
      .compose(v -> TestRedis.commandCalls(redis, "xreadgroup")).onSuccess(n -> readsBefore[0] = n)
      .compose(v -> vertx.deployVerticle(engine))
      // Its first read (empty) has reached Redis: the next poll is a minute away.
      .compose(id -> Eventually.until(vertx, () -> TestRedis.commandCalls(redis, "xreadgroup").map(n -> n > readsBefore[0]), 10_000, "the engine's first read"))
      .compose(v -> redis.send(Request.cmd(Command.XADD).arg(STREAM).arg("*").arg("n").arg("1")))
      .compose(v -> {
        wakeups.wake(STREAM);
        wakeups.wake("bg:test:{wake}:other"); // a stream nobody reads here: nothing happens
        return Eventually.until(vertx, () -> Future.succeededFuture(handled.contains("1")), 10_000, "the woken read");
      })
      .onComplete(ctx.succeedingThenComplete());
  }
}
