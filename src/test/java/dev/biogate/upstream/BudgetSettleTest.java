package dev.biogate.upstream;

import dev.biogate.redis.RedisKeys;
import dev.biogate.support.Eventually;
import dev.biogate.support.RedisClientTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * "Permits are re-stamped when their request completes" ({@code redis/budget_settle.lua}): the upstream counts a call
 * when it arrives, which on a CPU-starved instance can be long after its permit was granted, so a permit stays in the
 * log for a whole window after its request completed. A permit already trimmed from the log is never put back.
 */
class BudgetSettleTest extends RedisClientTest {

  @Test
  void aPermitIsReStampedWhenItsRequestCompletesAndATrimmedOneIsNotPutBack(Vertx vertx, VertxTestContext ctx) {
    String name = "settle-" + System.nanoTime();
    String log = RedisKeys.budgetLog(name);
    RedisBudget budget = new RedisBudget(vertx, redis, name, 10, 60_000, 1_000, LaneShares.defaults());
    long[] grantedAt = new long[1];
    long[] completedAfter = new long[1];
    budget.acquire(Lane.FOREGROUND).compose(permit -> scores(log).compose(granted -> {
        assertEquals(1, granted.size(), "one permit in the log");
        grantedAt[0] = granted.get(0);
        // The request "takes" until Redis's clock is 50 ms past the grant: a condition on the clock, not a sleep.
        return Eventually.until(vertx, () -> redisMicros().map(now -> now > grantedAt[0] + 50_000), 5_000, "time passes")
          .compose(v -> redisMicros())
          .compose(now -> {
            completedAfter[0] = now;
            permit.settle();
            return Eventually.until(vertx, () -> scores(log).map(s -> s.size() == 1 && s.get(0) >= completedAfter[0]), 5_000,
              "the permit carries its completion time");
          });
      }))
      .compose(v -> budget.acquire(Lane.FOREGROUND))
      .compose(second -> scores(log).compose(both -> {
        assertEquals(2, both.size());
        // Trim the newest (as the window would once it is old) and settle it: ZADD XX must not bring it back.
        return redis.send(Request.cmd(Command.ZREMRANGEBYRANK).arg(log).arg(-1).arg(-1)).map(second);
      }))
      .compose(second -> {
        second.settle();
        // The settle is sent after the answer; a PING behind it on the same connection returns after it ran.
        return Eventually.until(vertx, () -> scores(log).map(s -> s.size() == 1), 5_000, "the trimmed permit stays out", 50)
          .compose(v -> redis.send(Request.cmd(Command.PING))).compose(v -> scores(log));
      })
      .eventually(budget::stop)
      .onComplete(ctx.succeeding(left -> ctx.verify(() -> {
        assertEquals(1, left.size(), "a trimmed permit is not put back by its settle: " + left);
        assertTrue(left.get(0) >= completedAfter[0]);
        ctx.completeNow();
      })));
  }

  private Future<Long> redisMicros() {
    return redis.send(Request.cmd(Command.TIME)).map(t -> t.get(0).toLong() * 1_000_000L + t.get(1).toLong());
  }

  private Future<List<Long>> scores(String log) {
    return redis.send(Request.cmd(Command.ZRANGE).arg(log).arg(0).arg(-1).arg("WITHSCORES")).map(r -> {
      List<Long> out = new ArrayList<>();
      for (Response item : r) {
        if (item.type() == io.vertx.redis.client.ResponseType.MULTI) {
          out.add((long) Double.parseDouble(item.get(1).toString()));  // RESP3: [member, score] pairs
        }
      }
      if (out.isEmpty()) {
        for (int i = 1; i < r.size(); i += 2) {
          out.add((long) Double.parseDouble(r.get(i).toString()));  // RESP2: member, score, member, score
        }
      }
      return out;
    });
  }
}
