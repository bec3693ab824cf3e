package dev.biogate.stream;

import dev.biogate.support.Eventually;
import dev.biogate.support.RedisClientTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Heartbeats are stamped with Redis's clock, so after an outage longer than the heartbeat TTL every instance's last
 * beat looks stale. A drill saw the first instance back take a live instance's entries and remove its consumer while
 * that instance, past its ownership check, was already sending them to a destination: two sends of one delivery, no
 * instance dead. A reaper now judges nobody dead until it has itself beaten without a gap for a TTL: by then every live
 * instance that is back has beaten too. A dead one is still taken over, a TTL later. And an instance Redis has heard
 * from within the TTL (a read, a touch) is alive whatever its beat.
 */
class ReapAfterOutageTest extends RedisClientTest {

  private static final String STREAM = "bg:test:{reap-outage}:s";
  private static final String GROUP = "g";
  private static final long TTL_MS = 400;

  @Test
  void aReaperBackFromAGapJudgesNobodyDeadUntilItHasBeatenForATtl(Vertx vertx, VertxTestContext ctx) {
    StreamPolicy policy = new StreamPolicy(STREAM, GROUP).heartbeatTtlMs(TTL_MS).idleClaimMs(60_000);
    StreamGroup a = new StreamGroup(redis, redis, policy, "a");
    StreamGroup b = new StreamGroup(redis, redis, policy, "b");
    List<StreamGroup.Reaped> firstReaps = new ArrayList<>();
    redis.send(Request.cmd(Command.DEL).arg(STREAM).arg(policy.consumersKey()))
      .compose(v -> a.ensure())
      .compose(v -> redis.send(Request.cmd(Command.XADD).arg(STREAM).arg("*").arg("n").arg("1")))
      .compose(v -> b.beat()).compose(v -> b.read(10)).map(read -> {
        assertEquals(1, read.size(), "b holds the entry");
        return null;
      })
      .compose(v -> a.beat())
      // Nobody beats for longer than the TTL: what every beat looks like to Redis after an outage that long.
      .compose(v -> vertx.timer(TTL_MS + 200))
      // a is back first. b is alive and about to beat, but has not yet.
      .compose(v -> a.beat()).compose(v -> a.reap(10, 60_000)).map(r -> {
        firstReaps.add(r);
        return null;
      })
      .compose(v -> b.beat()).compose(v -> a.beat()).compose(v -> a.reap(10, 60_000)).map(r -> {
        firstReaps.add(r);
        return null;
      })
      .map(v -> {
        for (StreamGroup.Reaped r : firstReaps) {
          assertEquals(0, r.claimed().size(), "a live instance's entry is not taken");
          assertEquals(0, r.removed(), "nor its consumer removed");
        }
        return null;
      })
      // b is never heard from again: a, beating on, takes its entry over once it has beaten for a TTL itself.
      .compose(v -> takeOver(vertx, a, "the dead instance's entry taken over"))
      .onComplete(ctx.succeeding(last -> ctx.verify(() -> {
        assertEquals(1, last.claimed().size());
        assertEquals("1", last.claimed().get(0).get("n"));
        assertEquals(1, last.removed(), "and its consumer removed");
        ctx.completeNow();
      })));
  }

  /**
   * The drills' failovers: the reaper's own run of beats began long ago, and it reaps right after Redis is back,
   * before its own first beat since (a 3 to 4 s failover leaves each beat a little stale). Its old run is no proof of
   * anything: it judged, and removed live consumers in every group. A reaper whose own last beat is older than half
   * a TTL is back from a gap too.
   */
  @Test
  void aReaperThatHasNotBeatenSinceAGapJudgesNobody(Vertx vertx, VertxTestContext ctx) {
    String stream = STREAM + ":before-beat";
    StreamPolicy policy = new StreamPolicy(stream, GROUP).heartbeatTtlMs(TTL_MS).idleClaimMs(60_000);
    StreamGroup a = new StreamGroup(redis, redis, policy, "a");
    StreamGroup b = new StreamGroup(redis, redis, policy, "b");
    redis.send(Request.cmd(Command.DEL).arg(stream).arg(policy.consumersKey()))
      .compose(v -> a.ensure())
      .compose(v -> redis.send(Request.cmd(Command.XADD).arg(stream).arg("*").arg("n").arg("1")))
      .compose(v -> b.beat()).compose(v -> b.read(10))
      // a's run of beats is older than a TTL: it could judge.
      .compose(v -> beatFor(vertx, a, b, TTL_MS + 100))
      // Then the gap: nobody beats for longer than the TTL.
      .compose(v -> vertx.timer(TTL_MS + 200))
      // a reaps before its first beat since the gap; b is alive and about to beat.
      .compose(v -> a.reap(10, 60_000))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals(0, r.claimed().size(), "a live instance's entry is not taken");
        assertEquals(0, r.removed(), "nor its consumer removed");
        ctx.completeNow();
      })));
  }

  /**
   * README: "an instance Redis has heard from within the TTL (a read, a touch) is alive whatever its beat" (a live
   * instance whose beats are late still reads and touches the entries it works on). Here b beats once, then only reads
   * (each read delivering a new entry).
   */
  @Test
  void aConsumerThatReadsWithinTheTtlIsSparedWhateverItsBeat(Vertx vertx, VertxTestContext ctx) {
    String stream = STREAM + ":reads";
    spared(vertx, stream, (b, id) -> redis.send(Request.cmd(Command.XADD).arg(stream).arg("*").arg("n").arg("2"))
      .compose(x -> b.read(10)).mapEmpty()).onComplete(ctx.succeedingThenComplete());
  }

  /** As above, b touching the entry it works on (stream_touch.lua) instead of reading. */
  @Test
  void aConsumerThatTouchesItsEntryWithinTheTtlIsSparedWhateverItsBeat(Vertx vertx, VertxTestContext ctx) {
    spared(vertx, STREAM + ":touches", (b, id) -> b.touch(List.of(id)).mapEmpty()).onComplete(ctx.succeedingThenComplete());
  }

  /**
   * b holds an entry, beats once and is then heard from only through {@code activity}, right before each of a's reaps.
   * Each reap made while b's beat is older than the TTL and a judges (its run of beats older than the TTL) must spare
   * b; three such reaps are awaited. Then b falls silent, and a takes its entry over: the beat was stale indeed, and
   * only b's activity kept it.
   */
  private Future<Void> spared(Vertx vertx, String stream, java.util.function.BiFunction<StreamGroup, String, Future<Void>> activity) {
    StreamPolicy policy = new StreamPolicy(stream, GROUP).heartbeatTtlMs(TTL_MS).idleClaimMs(60_000);
    StreamGroup a = new StreamGroup(redis, redis, policy, "a");
    StreamGroup b = new StreamGroup(redis, redis, policy, "b");
    String[] entry = new String[1];
    List<StreamGroup.Reaped> judged = new ArrayList<>();
    List<StreamGroup.Reaped> all = new ArrayList<>();
    return redis.send(Request.cmd(Command.DEL).arg(stream).arg(policy.consumersKey()))
      .compose(v -> a.ensure())
      .compose(v -> redis.send(Request.cmd(Command.XADD).arg(stream).arg("*").arg("n").arg("1")))
      .compose(v -> b.beat()).compose(v -> b.read(10)).map(read -> {
        assertEquals(1, read.size(), "b holds the entry");
        entry[0] = read.get(0).id();
        return null;
      })
      .compose(v -> Eventually.until(vertx, () -> activity.apply(b, entry[0])
        .compose(x -> a.beat())
        .compose(x -> redis.send(Request.cmd(Command.TIME)))
        .compose(t -> {
          long now = t.get(0).toLong() * 1000 + t.get(1).toLong() / 1000;
          return redis.send(Request.cmd(Command.ZMSCORE).arg(policy.consumersKey()).arg("b").arg("since:a")).map(scores ->
            scores.get(0).toLong() < now - TTL_MS && scores.get(1).toLong() <= now - TTL_MS);
        })
        .compose(meaningful -> a.reap(10, 60_000).map(r -> {
          all.add(r);
          if (meaningful) {
            judged.add(r);
          }
          // A reap that took b's entry or removed b ends the wait: the assertions below say what went wrong.
          return judged.size() >= 3 || !r.claimed().isEmpty() || r.removed() > 0;
        })), 10_000, "three reaps judging b, whose beat is stale", 50))
      .map(v -> {
        for (StreamGroup.Reaped r : all) {
          assertEquals(0, r.claimed().size(), "an entry of an instance Redis has just heard from is not taken: " + r);
          assertEquals(0, r.removed(), "nor its consumer removed: " + r);
        }
        return null;
      })
      // b falls silent: a takes its entry over once Redis has not heard from b for the TTL.
      .compose(v -> takeOver(vertx, a, "the silent instance's entry taken over")).map(last -> {
        assertEquals(entry[0], last.claimed().get(0).id());
        return null;
      });
  }

  /** {@code a} beats and reaps until a reap takes an entry over; that reap. */
  private static Future<StreamGroup.Reaped> takeOver(Vertx vertx, StreamGroup a, String what) {
    List<StreamGroup.Reaped> reaps = new ArrayList<>();
    return Eventually.until(vertx, () -> a.beat().compose(x -> a.reap(10, 60_000)).map(r -> {
      reaps.add(r);
      return !r.claimed().isEmpty();
    }), 10_000, what, 50).map(v -> reaps.get(reaps.size() - 1));
  }

  /** Both beat every TTL/4 for {@code ms}. */
  private Future<Void> beatFor(Vertx vertx, StreamGroup a, StreamGroup b, long ms) {
    long until = System.currentTimeMillis() + ms;
    return a.beat().compose(v -> b.beat()).compose(v -> vertx.timer(TTL_MS / 4))
      .compose(t -> System.currentTimeMillis() >= until ? Future.succeededFuture() : beatFor(vertx, a, b, until - System.currentTimeMillis()));
  }
}
