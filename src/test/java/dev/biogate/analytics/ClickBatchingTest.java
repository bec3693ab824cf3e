package dev.biogate.analytics;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.Sharded;
import dev.biogate.support.TestRedis;
import dev.biogate.support.UnstartedHarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The counters take one script call per creator per read, not one per click, and still count each event once. */
class ClickBatchingTest extends UnstartedHarnessTest {

  private static final int CLICKS = 200;
  private static final long HOUR = 3_600_000;

  @TempDir
  Path dir;

  @Test
  void oneCreatorsClicksReadTogetherAreCountedInOneScriptCallEachCountedOnce(Vertx vertx, VertxTestContext ctx) {
    long now = System.currentTimeMillis();
    // Every click lands in the stream at once (one script), so the counter's first read holds several of them.
    String append = "for i = 1, tonumber(ARGV[1]) do redis.call('XADD', KEYS[1], '*', 'event_id', 'b-' .. i, 'username', 'demo',"
      + " 'link_id', 'lnk_demo_0' .. (i % 3 + 1), 'ts', ARGV[2], 'source', 'redirect') end"
      // and each of the first ten twice: a redelivery must not be counted again
      + " for i = 1, 10 do redis.call('XADD', KEYS[1], '*', 'event_id', 'b-' .. i, 'username', 'demo',"
      + " 'link_id', 'lnk_demo_0' .. (i % 3 + 1), 'ts', ARGV[2], 'source', 'redirect') end return 1";
    h.start(TestRedis.url(), new JsonObject())
      .compose(x -> h.gateway(Clicks.config(dir.resolve("b.journal"))))
      .compose(g -> h.redis(Request.cmd(Command.EVAL).arg(append).arg(1).arg(Sharded.clicksOf("demo", null))
          .arg(CLICKS).arg(Long.toString(now)))
        .compose(v -> Clicks.eventually(vertx, () -> Future.succeededFuture(g.clickCounter().counted() + g.clickCounter().repeats()
          == CLICKS + 10), 10_000, "every entry handled"))
        .compose(v -> Clicks.issueKey(h, g, "demo"))
        .compose(key -> Clicks.query(h, g, key, "demo", now - HOUR, now + HOUR, "hour"))
        .map(result -> {
          ClickCounter c = g.clickCounter();
          assertEquals(CLICKS, c.counted(), "each event counted once");
          assertEquals(10, c.repeats(), "redeliveries recognised");
          assertEquals(CLICKS, result.getLong("total"));
          assertTrue(c.scriptCalls() < CLICKS, "clicks read together share a script call: " + c.scriptCalls() + " calls");
          return null;
        }))
      .onComplete(ctx.succeedingThenComplete());
  }
}
