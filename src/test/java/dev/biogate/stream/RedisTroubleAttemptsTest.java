package dev.biogate.stream;

import dev.biogate.redis.MultiplexedRedis;
import dev.biogate.support.Eventually;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.RedisClientTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.types.ErrorType;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A handler whose Redis is unavailable (on a Cluster, the shard holding the keys it writes fails over while the
 * events stream's shard is fine) spends no attempt: a drill saw accepted events dead-lettered after 5 attempts in
 * 1.4 to 15 s of a failover, with CLUSTERDOWN, a refused connection or "redis connection not replaced yet", never
 * applied. Such an entry is held and tried again; a failure of the handler's own stays an attempt. The README's list
 * (a refused or lost connection, CLUSTERDOWN, TRYAGAIN, LOADING, READONLY, OOM) is fed to a handler; the lost
 * connection for real, by killing the connection a handler's command is in flight on.
 */
class RedisTroubleAttemptsTest extends RedisClientTest {

  private static final String STREAM = "bg:test:{redis-trouble}:s";
  private static final String GROUP = "g";

  @Test
  void redisUnavailableInAHandlerSpendsNoAttempt(Vertx vertx, VertxTestContext ctx) {
    List<Throwable> troubles = List.of(ErrorType.create("CLUSTERDOWN The cluster is down"),
      ErrorType.create("TRYAGAIN Multiple keys request during rehashing of slot"), new ConnectException("Connection refused"),
      VertxException.noStackTrace("redis connection not replaced yet"), ErrorType.create("LOADING Redis is loading the dataset"),
      ErrorType.create("READONLY You can't write against a read only replica."),
      ErrorType.create("OOM command not allowed when used memory > 'maxmemory'."));
    AtomicInteger calls = new AtomicInteger();
    StreamHandler failingWhileRedisIsAway = e -> {
      int n = calls.getAndIncrement();
      return n < troubles.size() ? Future.failedFuture(troubles.get(n)) : Future.succeededFuture(Outcome.done());
    };
    // Two attempts allowed: seven failures of Redis's would have dead-lettered the entry after the second.
    StreamPolicy policy = new StreamPolicy(STREAM, GROUP).soleReader(true).pollMs(20).idlePollMaxMs(50).maxAttempts(2)
      .retry(10, 20).keepDelayMs(10);
    StreamEngine engine = new StreamEngine(redis, policy, "c1", failingWhileRedisIsAway, new StreamStats());
    redis.send(Request.cmd(Command.DEL).arg(STREAM).arg(policy.deadLetters()))
      .compose(v -> redis.send(Request.cmd(Command.XGROUP).arg("CREATE").arg(STREAM).arg(GROUP).arg("$").arg("MKSTREAM")))
      .compose(v -> vertx.deployVerticle(engine))
      .compose(id -> redis.send(Request.cmd(Command.XADD).arg(STREAM).arg("*").arg("n").arg("1")))
      .compose(v -> Eventually.until(vertx, () -> redis.send(Request.cmd(Command.XPENDING).arg(STREAM).arg(GROUP))
        .map(p -> calls.get() > troubles.size() && p.get(0).toLong() == 0), 10_000, "handled and acknowledged"))
      .compose(v -> redis.send(Request.cmd(Command.XLEN).arg(policy.deadLetters())))
      .onComplete(ctx.succeeding(deadLetters -> ctx.verify(() -> {
        assertEquals(0, deadLetters.toLong(), "nothing dead-lettered");
        assertEquals(troubles.size() + 1, calls.get(), "tried until Redis was back, then once more");
        ctx.completeNow();
      })));
  }

  /**
   * An entry held for Redis trouble is tried again less and less often while the trouble lasts: it was tried every
   * retry base (1 s for the events streams) for as long as Redis failed, every held entry of every instance in step.
   * Here the base is 100 ms and Redis fails five times: the fifth wait is at least 800 ms (100, 200, 400, 800).
   */
  @Test
  void anEntryHeldForRedisTroubleIsTriedAgainLessAndLessOften(Vertx vertx, VertxTestContext ctx) {
    String stream = STREAM + ":backoff";
    List<Long> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    StreamHandler failingWhileRedisIsAway = e -> {
      calls.add(System.nanoTime());
      return calls.size() <= 5 ? Future.failedFuture(ErrorType.create("CLUSTERDOWN The cluster is down"))
        : Future.succeededFuture(Outcome.done());
    };
    StreamPolicy policy = new StreamPolicy(stream, GROUP).soleReader(true).pollMs(20).idlePollMaxMs(50).maxAttempts(2)
      .retry(100, 60_000).keepDelayMs(10);
    StreamEngine engine = new StreamEngine(redis, policy, "c1", failingWhileRedisIsAway, new StreamStats());
    redis.send(Request.cmd(Command.DEL).arg(stream).arg(policy.deadLetters()))
      .compose(v -> redis.send(Request.cmd(Command.XGROUP).arg("CREATE").arg(stream).arg(GROUP).arg("$").arg("MKSTREAM")))
      .compose(v -> vertx.deployVerticle(engine))
      .compose(id -> redis.send(Request.cmd(Command.XADD).arg(stream).arg("*").arg("n").arg("1")))
      .compose(v -> Eventually.until(vertx, () -> redis.send(Request.cmd(Command.XPENDING).arg(stream).arg(GROUP))
        .map(p -> calls.size() > 5 && p.get(0).toLong() == 0), 20_000, "handled and acknowledged"))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertEquals(6, calls.size(), "tried until Redis was back, then once more");
        long lastWaitMs = (calls.get(5) - calls.get(4)) / 1_000_000;
        assertTrue(lastWaitMs >= 800, "the fifth wait: " + lastWaitMs + " ms");
        ctx.completeNow();
      })));
  }

  /**
   * A lost connection, for real: twice (as many times as attempts are allowed) the handler's command is in flight on a
   * connection Redis drops, failed the way the handler's client (the production one) reports it.
   */
  @Test
  void aLostConnectionInAHandlerSpendsNoAttempt(Vertx vertx, VertxTestContext ctx) {
    String stream = STREAM + ":lost";
    AtomicInteger calls = new AtomicInteger();
    Throwable[] lost = new Throwable[1];
    StreamHandler losingItsConnection = e -> calls.getAndIncrement() < 2
      ? commandOnALostConnection(vertx).andThen(ar -> lost[0] = ar.cause()) : Future.succeededFuture(Outcome.done());
    StreamPolicy policy = new StreamPolicy(stream, GROUP).soleReader(true).pollMs(20).idlePollMaxMs(50).maxAttempts(2)
      .retry(10, 20).keepDelayMs(10);
    StreamEngine engine = new StreamEngine(redis, policy, "c1", losingItsConnection, new StreamStats());
    deadLettersOnceSettled(vertx, engine, policy, calls)
      .onComplete(ctx.succeeding(deadLetters -> ctx.verify(() -> {
        assertTrue(lost[0] != null, "the handler's command failed with its connection");
        assertEquals(0, deadLetters.longValue(), "nothing dead-lettered; the lost connection failed the command with: " + lost[0]);
        assertEquals(3, calls.get(), "tried until the connection was back, then once more");
        ctx.completeNow();
      })));
  }

  /**
   * A command in flight when Redis drops its connection: a {@code BLPOP} (which the client runs on a connection of its
   * own) killed with {@code CLIENT KILL ID} once Redis shows it blocked. Fails as the client reports the loss.
   */
  private Future<Outcome> commandOnALostConnection(Vertx vertx) {
    Future<Outcome> blocked = redis.send(Request.cmd(Command.BLPOP).arg("bg:test:{redis-trouble}:never-pushed").arg(30))
      .map(r -> Outcome.done());
    String[] id = new String[1];
    return Eventually.until(vertx, () -> redis.send(Request.cmd(Command.CLIENT).arg("LIST")).map(list -> {
        for (String line : list.toString().split("\n")) {
          if (line.contains(" cmd=blpop ") && line.startsWith("id=")) {
            id[0] = line.substring(3, line.indexOf(' '));
            return true;
          }
        }
        return false;
      }), 10_000, "the handler's BLPOP blocked in Redis")
      .compose(v -> redis.send(Request.cmd(Command.CLIENT).arg("KILL").arg("ID").arg(id[0])))
      .compose(v -> blocked);
  }

  /**
   * A Redis call that gets no answer in time (a master frozen, or overloaded, in a failover) spends no attempt either: a
   * drill saw LinkMe clicks and a Linktree {@code link.updated} dead-lettered after 5 attempts, each a "timeout", 20-28 s
   * into a Cluster failover (the client's 2-s command timeout); the clicks were not counted until an operator replayed
   * them. Here the handler's command goes, through the gateway's own client (200-ms command timeout), to a Redis frozen
   * with SIGSTOP, as many times as attempts are allowed.
   */
  @Test
  void aRedisCallThatTimesOutInAHandlerSpendsNoAttempt(Vertx vertx, VertxTestContext ctx) {
    String stream = STREAM + ":frozen";
    RedisProcess frozen = RedisProcess.start("frozen", List.of(), false, false);
    MultiplexedRedis client = MultiplexedRedis.create(vertx, new RedisOptions().setConnectionString(frozen.url()), 200);
    AtomicInteger calls = new AtomicInteger();
    Throwable[] seen = new Throwable[1];
    StreamHandler onAFrozenRedis = e -> calls.getAndIncrement() < 2
      ? client.send(Request.cmd(Command.GET).arg("bg:test:frozen")).<Outcome>map(r -> Outcome.done()).andThen(ar -> seen[0] = ar.cause())
      : Future.succeededFuture(Outcome.done());
    StreamPolicy policy = new StreamPolicy(stream, GROUP).soleReader(true).pollMs(20).idlePollMaxMs(50).maxAttempts(2)
      .retry(10, 20).keepDelayMs(10);
    StreamEngine engine = new StreamEngine(redis, policy, "c1", onAFrozenRedis, new StreamStats());
    client.send(Request.cmd(Command.PING))
      .compose(v -> vertx.executeBlocking(() -> {
        frozen.pause();
        return null;
      }))
      .compose(v -> deadLettersOnceSettled(vertx, engine, policy, calls))
      .eventually(() -> vertx.executeBlocking(() -> {
        frozen.resume();
        frozen.kill();
        return null;
      }).compose(v -> client.close()))
      .onComplete(ctx.succeeding(deadLetters -> ctx.verify(() -> {
        assertTrue(seen[0] instanceof java.util.concurrent.TimeoutException, "the handler's command timed out: " + seen[0]);
        assertEquals(0, deadLetters.longValue(), "nothing dead-lettered; the command failed with: " + seen[0]);
        assertEquals(3, calls.get(), "tried until Redis answered, then once more");
        ctx.completeNow();
      })));
  }

  /** A timeout of the handler's own (not a Redis call's) stays an attempt: work that never ends is dead-lettered. */
  @Test
  void aHandlersOwnTimeoutStillSpendsAttempts(Vertx vertx, VertxTestContext ctx) {
    deadLetteredAfterTwoAttempts(":own-timeout", new java.util.concurrent.TimeoutException("the destination did not answer"),
      vertx, ctx);
  }

  @Test
  void aHandlersOwnFailureStillSpendsAttempts(Vertx vertx, VertxTestContext ctx) {
    deadLetteredAfterTwoAttempts(":own", new IllegalStateException("bad payload"), vertx, ctx);
  }

  /** A handler that always fails with {@code failure}, allowed two attempts: its entry is dead-lettered after both. */
  private void deadLetteredAfterTwoAttempts(String suffix, Throwable failure, Vertx vertx, VertxTestContext ctx) {
    AtomicInteger calls = new AtomicInteger();
    StreamHandler alwaysFailing = e -> {
      calls.incrementAndGet();
      return Future.failedFuture(failure);
    };
    String stream = STREAM + suffix;
    StreamPolicy policy = new StreamPolicy(stream, GROUP).soleReader(true).pollMs(20).idlePollMaxMs(50).maxAttempts(2).retry(10, 20);
    StreamEngine engine = new StreamEngine(redis, policy, "c1", alwaysFailing, new StreamStats());
    redis.send(Request.cmd(Command.DEL).arg(stream).arg(policy.deadLetters()))
      .compose(v -> redis.send(Request.cmd(Command.XGROUP).arg("CREATE").arg(stream).arg(GROUP).arg("$").arg("MKSTREAM")))
      .compose(v -> vertx.deployVerticle(engine))
      .compose(id -> redis.send(Request.cmd(Command.XADD).arg(stream).arg("*").arg("n").arg("1")))
      .compose(v -> Eventually.until(vertx, () -> redis.send(Request.cmd(Command.XLEN).arg(policy.deadLetters()))
        .map(n -> n.toLong() == 1), 10_000, "dead-lettered after its attempts"))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertEquals(2, calls.get(), "two attempts, as allowed");
        ctx.completeNow();
      })));
  }

  /**
   * Runs {@code engine} on a fresh stream holding one entry, whose handler fails twice (as many times as attempts are
   * allowed) and then succeeds; completes with the number of dead letters once the entry is settled either way:
   * handled and acknowledged, or (the failure under test) dead-lettered.
   */
  private Future<Long> deadLettersOnceSettled(Vertx vertx, StreamEngine engine, StreamPolicy policy, AtomicInteger calls) {
    String stream = policy.stream();
    return redis.send(Request.cmd(Command.DEL).arg(stream).arg(policy.deadLetters()))
      .compose(v -> redis.send(Request.cmd(Command.XGROUP).arg("CREATE").arg(stream).arg(GROUP).arg("$").arg("MKSTREAM")))
      .compose(v -> vertx.deployVerticle(engine))
      .compose(id -> redis.send(Request.cmd(Command.XADD).arg(stream).arg("*").arg("n").arg("1")))
      .compose(v -> Eventually.until(vertx, () -> redis.send(Request.cmd(Command.XPENDING).arg(stream).arg(GROUP))
        .compose(p -> redis.send(Request.cmd(Command.XLEN).arg(policy.deadLetters()))
          .map(dead -> p.get(0).toLong() == 0 && (calls.get() > 2 || dead.toLong() > 0))), 10_000, "handled or dead-lettered"))
      .compose(v -> redis.send(Request.cmd(Command.XLEN).arg(policy.deadLetters())))
      .map(Response::toLong);
  }
}
