package dev.biogate.upstream;

import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.RedisClientTest;
import io.vertx.core.Future;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shares the roster records are what instances grant themselves locally once cut off from Redis, and what the
 * shared log reserves for silent ones: they must never sum past the budget. Each instance computes its share from the
 * instance count it last read, so when a third instance joined, the two others still held half each until their next
 * report: a CI run saw 14 calls in a window of 12 when Redis stopped in that second (two instances at 4, one at 6).
 * A report now records at most what the other records leave of the budget.
 */
class RosterSharesTest extends RedisClientTest {

  private static final LuaScript HEARTBEAT = LuaScript.load("heartbeat");
  private static final String NAME = "roster-shares-test";
  private static final int LIMIT = 12;
  private static final long LIFETIME_US = 60_000_000L;
  private static final long WINDOW_US = 2_000_000L;

  private final List<String> keys = List.of(RedisKeys.budgetInstances(NAME), RedisKeys.budgetLog(NAME),
    RedisKeys.budgetPart(NAME, "details"), RedisKeys.budgetPart(NAME, "putback"), RedisKeys.budgetPart(NAME, "left"));

  private Future<Response> report(String id, int share) {
    return HEARTBEAT.run(redis, keys, List.of(id, Integer.toString(share), "0", Long.toString(LIFETIME_US), Long.toString(WINDOW_US), "0",
      Integer.toString(LIMIT)));
  }

  /** id → recorded share, from a heartbeat's answer (records, permits, then id/report/share/grants quadruples). */
  private static int shareOf(Response r, String id) {
    for (int i = 2; i + 3 < r.size() + 1; i += 4) {
      if (r.get(i).toString().equals(id)) {
        return r.get(i + 2).toInteger();
      }
    }
    throw new AssertionError(id + " not in the roster: " + r);
  }

  private static int total(Response r) {
    int sum = 0;
    for (int i = 2; i + 3 < r.size() + 1; i += 4) {
      sum += r.get(i + 2).toInteger();
    }
    return sum;
  }

  @Test
  void aNewcomersShareIsWhatTheOthersLeaveUntilTheyReportTheirSmallerOnes(VertxTestContext ctx) {
    redis.send(Request.cmd(Command.DEL).arg(keys.get(0)).arg(keys.get(1)).arg(keys.get(2)).arg(keys.get(3)).arg(keys.get(4)))
      .compose(v -> report("a", LIMIT / 2)).compose(v -> report("b", LIMIT / 2))
      // c has read three instances and asks for a third; a and b have not reported their thirds yet.
      .compose(v -> report("c", LIMIT / 3)).map(r -> {
        assertTrue(total(r) <= LIMIT, "shares sum within the budget: " + r);
        assertEquals(0, shareOf(r, "c"), "nothing is left for c yet");
        return null;
      })
      .compose(v -> report("a", LIMIT / 3)).compose(v -> report("b", LIMIT / 3)).compose(v -> report("c", LIMIT / 3))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals(List.of(4, 4, 4), List.of(shareOf(r, "a"), shareOf(r, "b"), shareOf(r, "c")), "a report later, each holds its third");
        ctx.completeNow();
      })));
  }
}
