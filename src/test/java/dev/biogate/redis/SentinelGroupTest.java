package dev.biogate.redis;

import dev.biogate.config.RedisConfig;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.Resp;
import dev.biogate.support.TestSentinel;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a real Sentinel group confirms: the master it names (by run id), and nothing else; a group that cannot be
 * reached confirms nothing.
 */
@ExtendWith(VertxExtension.class)
class SentinelGroupTest {

  @Test
  void confirmsOnlyTheServerTheSentinelsNameAsMaster(Vertx vertx, VertxTestContext ctx) throws Exception {
    TestSentinel group = TestSentinel.get();
    group.awaitMasterRunIdKnown();
    String master = Resp.info(group.masterPort(), "server", "run_id");
    String replica = Resp.info(group.replica().port(), "server", "run_id");
    SentinelGroup sentinels = new SentinelGroup(vertx, new RedisConfig(group.redisConfig().put("commandTimeoutMs", 1000)));
    sentinels.confirmsMaster(master, null)
      .compose(m -> sentinels.confirmsMaster(replica, null).map(r -> new boolean[] {m, r}))
      .compose(both -> sentinels.confirmsMaster("", null).map(empty -> new boolean[] {both[0], both[1], empty}))
      .eventually(sentinels::close)
      .onComplete(ctx.succeeding(answers -> ctx.verify(() -> {
        assertEquals(true, answers[0], "the master " + master);
        assertEquals(false, answers[1], "the replica " + replica);
        assertEquals(false, answers[2], "an unknown run id");
        ctx.completeNow();
      })));
  }

  /**
   * A master name no Sentinel knows can never work: the gateway used to start and stay degraded forever, logging
   * "No such master with that name". Its start now fails, naming the setting. Sentinels that cannot be reached are an
   * outage, not a mistake: that start goes on degraded, as with any Redis outage.
   */
  @Test
  void aMasterNameNoSentinelKnowsFailsTheStartNamingTheSetting(Vertx vertx, VertxTestContext ctx) {
    TestSentinel group = TestSentinel.get();
    dev.biogate.support.Harness h = new dev.biogate.support.Harness(vertx);
    JsonObject unknown = new JsonObject().put("redis", group.redisConfig().put("masterName", "no-such-master"));
    JsonObject unreachable = new JsonObject().put("redis", group.redisConfig().put("masterName", "no-such-master")
      .put("endpoints", new io.vertx.core.json.JsonArray().add("redis://127.0.0.1:1")));
    h.start(dev.biogate.support.Topology.SENTINEL)
      .compose(v -> h.gateway(unknown).transform(ar -> Future.succeededFuture(ar.cause())))
      .compose(failure -> {
        SentinelGroup none = new SentinelGroup(vertx, new RedisConfig(unreachable.getJsonObject("redis")));
        return none.knowsMaster().map(answer -> new Object[] {failure, answer}).eventually(none::close);
      })
      .eventually(h::close)
      .onComplete(ctx.succeeding(seen -> ctx.verify(() -> {
        Throwable failure = (Throwable) seen[0];
        assertTrue(failure instanceof dev.biogate.config.ConfigException, "start failed on the setting: " + failure);
        assertTrue(failure.getMessage().contains("redis.masterName") && failure.getMessage().contains("no-such-master"),
          failure.getMessage());
        assertEquals(true, seen[1], "unreachable Sentinels are not taken for a wrong name");
        ctx.completeNow();
      })));
  }

  /** Preflight says the same as the start about a master name no Sentinel knows: it used to say "unreachable". */
  @Test
  void preflightNamesAMasterNameNoSentinelKnows(Vertx vertx) throws Exception {
    TestSentinel group = TestSentinel.get();
    dev.biogate.support.Harness h = new dev.biogate.support.Harness(vertx);
    h.start(dev.biogate.support.Topology.SENTINEL).toCompletionStage().toCompletableFuture().get(60, java.util.concurrent.TimeUnit.SECONDS);
    try {
      JsonObject unknown = new JsonObject().put("redis", group.redisConfig().put("masterName", "no-such-master"));
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      int failures = new dev.biogate.ops.Preflight(vertx, h.config(unknown),
        new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8)).run(null);
      String text = out.toString(java.nio.charset.StandardCharsets.UTF_8);
      assertTrue(failures > 0, text);
      assertTrue(text.contains("redis.masterName): no Sentinel of the configured endpoints knows a master named 'no-such-master'"), text);
      assertTrue(!text.contains("unreachable"), text);
    } finally {
      h.close().toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  /**
   * What one Sentinel's {@code SENTINEL MASTER} answer confirms. Right after a switch a Sentinel names the new master
   * by address only: it reads the run id at its next {@code INFO}, 5 to 10 s later in the drills, and webhooks were
   * answered 503 all that time. An answer without a run id confirms the server the gateway reached at that address;
   * one with a run id only that process; anything flagged other than plain {@code master}, nothing.
   */
  @Test
  void anAnswerConfirmsByRunIdOrJustAfterASwitchByAddress() {
    Map<String, String> known = Map.of("ip", "10.0.0.2", "port", "6379", "runid", "abc", "flags", "master");
    Map<String, String> switched = Map.of("ip", "10.0.0.2", "port", "6379", "runid", "", "flags", "master");
    Map<String, String> failing = Map.of("ip", "10.0.0.2", "port", "6379", "runid", "abc",
      "flags", "master,failover_in_progress");
    assertEquals(true, SentinelGroup.names(known::get, "abc", "10.0.0.1:6379"), "the run id");
    assertEquals(false, SentinelGroup.names(known::get, "def", "10.0.0.2:6379"), "another process at that address");
    assertEquals(true, SentinelGroup.names(switched::get, "def", "10.0.0.2:6379"), "just switched to this address");
    assertEquals(false, SentinelGroup.names(switched::get, "def", "10.0.0.1:6379"), "just switched to another address");
    assertEquals(false, SentinelGroup.names(switched::get, "def", null), "an address the gateway could not read");
    assertEquals(false, SentinelGroup.names(failing::get, "abc", "10.0.0.2:6379"), "a failover in progress");
  }

  @org.junit.jupiter.api.io.TempDir
  java.nio.file.Path dir;

  /** The start-up log names the master the Sentinels gave, not only the Sentinels (a newcomer could not tell which). */
  @Test
  void theStartUpLogNamesTheMasterTheSentinelsGave() throws Exception {
    TestSentinel group = TestSentinel.get();
    String endpoints = String.join(",", group.sentinels().stream().map(RedisProcess::url).toList());
    dev.biogate.support.ZeroConfigProcess gateway = dev.biogate.support.ZeroConfigProcess.start(dir, java.util.List.of(),
      Map.of("REDIS_TYPE", "sentinel", "REDIS_ENDPOINTS", endpoints, "REDIS_MASTER_NAME", TestSentinel.MASTER_NAME));
    Process p = gateway.process();
    try {
      assertTrue(gateway.awaitLine("biogate listening on", 90, java.util.concurrent.TimeUnit.SECONDS), "started: " + gateway.lines());
      String expected = "master '" + TestSentinel.MASTER_NAME + "' at 127.0.0.1:" + group.masterPort() + " answered PING";
      assertTrue(gateway.lines().stream().anyMatch(l -> l.contains(expected)), expected + " in " + gateway.lines());
    } finally {
      new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
      p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @Test
  void sentinelsThatDoNotAnswerConfirmNothing(Vertx vertx, VertxTestContext ctx) throws Exception {
    TestSentinel group = TestSentinel.get();
    String master = Resp.info(group.masterPort(), "server", "run_id");
    // Nothing listens on these ports (port 1 and 2 are privileged and unused here).
    JsonObject cfg = group.redisConfig().put("endpoints", new JsonArray().add("redis://127.0.0.1:1").add("redis://127.0.0.1:2")
      .add(group.sentinels().get(0).url())).put("commandTimeoutMs", 500);
    SentinelGroup sentinels = new SentinelGroup(vertx, new RedisConfig(cfg));
    sentinels.confirmsMaster(master, null).eventually(sentinels::close)
      .onComplete(ctx.succeeding(confirmed -> ctx.verify(() -> {
        assertEquals(false, confirmed, "one Sentinel of three is not a majority");
        ctx.completeNow();
      })));
  }
}
