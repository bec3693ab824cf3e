package dev.biogate.analytics;

import dev.biogate.redis.EmbeddedRedis;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code redis/click_count.lua} on a server of its own (so its command counts are this test's alone): a batch of one
 * creator's clicks costs the server one increment per counter hash and link, not one per click, and still counts each
 * event exactly once.
 */
@ExtendWith(VertxExtension.class)
class ClickCountScriptTest {

  private static final String USER = "demo";
  private static final long TS = 1_796_500_000_000L;
  private static final long TTL_S = 600;
  private static final Granularity[] SIZES = Granularity.values();

  private final LuaScript script = LuaScript.load("click_count");
  private EmbeddedRedis server;
  private Redis redis;

  @BeforeEach
  void start(Vertx vertx) {
    server = TestRedis.dedicated();
    redis = Redis.createClient(vertx, server.url());
  }

  @AfterEach
  void stop() throws IOException {
    redis.close();
    server.close();
  }

  /** One creator's events as {@code ClickCounter} sends them: each its marker, then its three buckets. */
  private Future<Response> count(List<String> linkIds, List<String> eventIds) {
    List<String> keys = new ArrayList<>();
    List<String> args = new ArrayList<>(List.of(Long.toString(TTL_S)));
    for (int i = 0; i < eventIds.size(); i++) {
      keys.add(RedisKeys.clickCounted(USER, eventIds.get(i)));
      args.add(linkIds.get(i));
      args.add(Integer.toString(SIZES.length));
      for (Granularity g : SIZES) {
        keys.add(RedisKeys.clickBucket(USER, g.unit(), g.index(TS)));
        args.add(Long.toString(g.floor(TS) + 86_400_000L * 400));
      }
    }
    return script.run(redis, keys, args);
  }

  private Future<Response> cmd(Command c, Object... args) {
    Request r = Request.cmd(c);
    for (Object a : args) {
      r.arg(a.toString());
    }
    return redis.send(r);
  }

  @Test
  void aBatchCostsOneIncrementPerHashAndLinkAndCountsEachEventOnce(VertxTestContext ctx) {
    List<String> links = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= 100; i++) {
      links.add("lnk_a");
      ids.add("e-" + i);
    }
    for (int i = 101; i <= 120; i++) {
      links.add("lnk_b");
      ids.add("e-" + i);
    }
    links.add("lnk_a"); // the same event twice in one batch
    ids.add("e-1");
    links.add("lnk_b"); // an event counted by an earlier call
    ids.add("e-0");
    String minute = RedisKeys.clickBucket(USER, Granularity.MINUTE.unit(), Granularity.MINUTE.index(TS));
    count(List.of("lnk_b"), List.of("e-0"))
      .compose(first -> cmd(Command.CONFIG, "RESETSTAT"))
      .compose(reset -> count(links, ids))
      .compose(result -> Future.all(List.of(Future.succeededFuture(result),
        TestRedis.commandCalls(redis, "hincrby"), TestRedis.commandCalls(redis, "pexpireat"),
        cmd(Command.HGETALL, minute), cmd(Command.PTTL, minute))))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        Response result = all.resultAt(0);
        assertEquals(ids.size(), result.size());
        for (int i = 0; i < 120; i++) {
          assertEquals(1, result.get(i).toInteger(), "event " + ids.get(i) + " counted");
        }
        assertEquals(0, result.get(120).toInteger(), "the same event twice in one batch counts once");
        assertEquals(0, result.get(121).toInteger(), "an event counted before is not counted again");
        Response minuteCounts = all.resultAt(3);
        assertEquals(100, minuteCounts.get("lnk_a").toInteger());
        assertEquals(21, minuteCounts.get("lnk_b").toInteger(), "20 in this batch, 1 before");
        long hincrby = all.resultAt(1);
        long pexpireat = all.resultAt(2);
        // two links in each of three buckets; three buckets to keep
        assertEquals(2 * SIZES.length, hincrby, "increments per hash and link, not per click");
        assertEquals(SIZES.length, pexpireat, "one expiry per hash");
        assertTrue(all.<Response>resultAt(4).toLong() > 0, "the bucket expires");
        ctx.completeNow();
      })));
  }
}
