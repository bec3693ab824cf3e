package dev.biogate.redis;

import dev.biogate.config.RedisConfig;
import dev.biogate.support.Resp;
import dev.biogate.support.TestSentinel;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What a real Sentinel group confirms: the master it names (by run id), and nothing else; a group that cannot be
 * reached confirms nothing.
 */
@ExtendWith(VertxExtension.class)
class SentinelGroupTest {

  @Test
  void confirmsOnlyTheServerTheSentinelsNameAsMaster(Vertx vertx, VertxTestContext ctx) throws Exception {
    TestSentinel group = TestSentinel.get();
    String master = Resp.info(group.masterPort(), "server", "run_id");
    String replica = Resp.info(group.replica().port(), "server", "run_id");
    SentinelGroup sentinels = new SentinelGroup(vertx, new RedisConfig(group.redisConfig().put("commandTimeoutMs", 1000)));
    sentinels.confirmsMaster(master)
      .compose(m -> sentinels.confirmsMaster(replica).map(r -> new boolean[] {m, r}))
      .compose(both -> sentinels.confirmsMaster("").map(empty -> new boolean[] {both[0], both[1], empty}))
      .eventually(sentinels::close)
      .onComplete(ctx.succeeding(answers -> ctx.verify(() -> {
        assertEquals(true, answers[0], "the master " + master);
        assertEquals(false, answers[1], "the replica " + replica);
        assertEquals(false, answers[2], "an unknown run id");
        ctx.completeNow();
      })));
  }

  @Test
  void sentinelsThatDoNotAnswerConfirmNothing(Vertx vertx, VertxTestContext ctx) throws Exception {
    TestSentinel group = TestSentinel.get();
    String master = Resp.info(group.masterPort(), "server", "run_id");
    // Nothing listens on these ports (port 1 and 2 are privileged and unused here).
    JsonObject cfg = group.redisConfig().put("endpoints", new JsonArray().add("redis://127.0.0.1:1").add("redis://127.0.0.1:2")
      .add(group.sentinels().get(0).url())).put("commandTimeoutMs", 500);
    SentinelGroup sentinels = new SentinelGroup(vertx, new RedisConfig(cfg));
    sentinels.confirmsMaster(master).eventually(sentinels::close)
      .onComplete(ctx.succeeding(confirmed -> ctx.verify(() -> {
        assertEquals(false, confirmed, "one Sentinel of three is not a majority");
        ctx.completeNow();
      })));
  }
}
