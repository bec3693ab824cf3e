package dev.biogate.redis;

import dev.biogate.config.RedisConfig;
import dev.biogate.support.Eventually;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.Resp;
import dev.biogate.support.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
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

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway's Redis client against a real 3-master + 3-replica Redis Cluster: scripts survive empty script caches
 * and failovers, concurrency beyond the pool size does not deadlock, and a dead master fails only its own slots.
 */
@ExtendWith(VertxExtension.class)
class ClusterClientTest {

  /**
   * Nodes this class killed come back before the next class starts: healing (a restarted master rejoining as a replica
   * and syncing) took longer than a test's 30-s limit once, in whichever test asked for the cluster next.
   */
  @org.junit.jupiter.api.AfterAll
  static void healTheSharedCluster() {
    TestCluster.get();
  }

  private static final LuaScript RELEASE = LuaScript.load("lock_release");
  /** Small on purpose: the old client deadlocked once concurrency passed the pool size. */
  /**
   * A script (with its replica wait) whose keys a migration keeps split past the call's deadline fails as
   * {@code TRYAGAIN}, what Redis said last: it used to fail as the {@code ASK} it had followed, and the gateway logged
   * a slot migration as "(ASK)" although ASK is followed.
   */
  @Test
  void aScriptWhoseKeysStaySplitPastItsDeadlineFailsAsTryAgain(Vertx vertx, VertxTestContext ctx) {
    String present = "bg:lock:{split}a";
    String missing = "bg:lock:{split}b";
    Runnable settle = splitSlot(present);
    redis.batch(existsAndWait(present, missing)).onComplete(ar -> vertx.executeBlocking(() -> {
      settle.run();
      return null;
    }).onComplete(x -> ctx.verify(() -> {
      assertTrue(ar.failed(), "the keys stayed split");
      assertTrue(ar.cause().getMessage().startsWith("TRYAGAIN"), ar.cause().getMessage());
      ctx.completeNow();
    })));
  }

  /**
   * Sets {@code present} on its slot's master and starts moving that slot to another master (MIGRATING/IMPORTING, no
   * key moved); returns what settles the slot back on its owner.
   */
  private Runnable splitSlot(String present) {
    int slot = cluster.slot(present);
    RedisProcess source = cluster.masterOf(present);
    RedisProcess target = cluster.masters().stream().filter(m -> !m.equals(source)).findFirst().orElseThrow();
    source.call("SET", present, "token");
    target.call("CLUSTER", "SETSLOT", Integer.toString(slot), "IMPORTING", source.string("CLUSTER", "MYID"));
    source.call("CLUSTER", "SETSLOT", Integer.toString(slot), "MIGRATING", target.string("CLUSTER", "MYID"));
    return () -> {
      source.call("CLUSTER", "SETSLOT", Integer.toString(slot), "STABLE");
      target.call("CLUSTER", "SETSLOT", Integer.toString(slot), "STABLE");
    };
  }

  /** A script reading both keys, then a replica wait: one pipeline, as the webhook ingest sends it. */
  private static List<Request> existsAndWait(String present, String missing) {
    return List.of(Request.cmd(Command.EVAL).arg(EXISTS_BOTH).arg(2).arg(present).arg(missing),
      Request.cmd(Command.WAIT).arg(1).arg(100));
  }

  private static final String EXISTS_BOTH = "return redis.call('EXISTS', KEYS[1], KEYS[2])";

  private static final int POOL_SIZE = 4;
  private static final long COMMAND_TIMEOUT_MS = 1_000;

  private TestCluster cluster;
  private Redis redis;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    cluster = TestCluster.get();
    cluster.flushAll();
    redis = RedisClients.create(vertx, new RedisConfig(cluster.redisConfig().put("poolSize", POOL_SIZE)
      .put("commandTimeoutMs", COMMAND_TIMEOUT_MS)));
    // A connected client (a cold JVM needs longer than one command timeout for its first connection).
    Eventually.until(vertx, () -> redis.send(Request.cmd(Command.PING)).map(true), 15_000, "client connected")
      .onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stop() throws Exception {
    redis.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  /** Keys whose slots cover every master (a hash tag per key). */
  private List<String> keysOnEveryMaster(int n) {
    List<String> keys = IntStream.range(0, n).mapToObj(i -> "bg:lock:{user" + i + "}").collect(Collectors.toList());
    assertEquals(TestCluster.MASTERS, keys.stream().map(cluster::masterOf).distinct().count(), "keys span all masters");
    return keys;
  }

  /** Sets each key to "token", then releases it through the script: 1 per key when the script ran. */
  private Future<List<Long>> setAndRelease(List<String> keys) {
    List<Future<Long>> runs = new ArrayList<>();
    for (String k : keys) {
      runs.add(redis.send(Request.cmd(Command.SET).arg(k).arg("token"))
        .compose(ok -> RELEASE.run(redis, List.of(k), List.of("token")))
        .map(Response::toLong));
    }
    return Future.all(runs).map(all -> all.<Long>list());
  }

  private boolean cachedOnOwner(String key) {
    @SuppressWarnings("unchecked")
    List<Object> exists = (List<Object>) cluster.masterOf(key).call("SCRIPT", "EXISTS", RELEASE.sha());
    return Long.valueOf(1).equals(exists.get(0));
  }

  @Test
  void scriptsRunOnAFreshClusterAndAfterEveryNodeFlushedItsScripts(VertxTestContext ctx) {
    // One key at a time, every script cache emptied before each: the NOSCRIPT path must succeed every time, on
    // every master (a reload sent to a random node would miss the key's master most of the time).
    List<String> keys = keysOnEveryMaster(9);
    Future<List<Long>> chain = Future.succeededFuture(new ArrayList<>());
    for (String k : keys) {
      chain = chain.compose(results -> {
        cluster.scriptFlush();
        return setAndRelease(List.of(k)).map(r -> {
          results.addAll(r);
          ctx.verify(() -> assertTrue(cachedOnOwner(k), "the fallback cached the script on " + k + "'s master"));
          return results;
        });
      });
    }
    chain.onComplete(ctx.succeeding(results -> ctx.verify(() -> {
      assertEquals(Collections.nCopies(keys.size(), 1L), results, "every script ran");
      ctx.completeNow();
    })));
  }

  @Test
  void scriptsRunOnAPromotedReplicaThatNeverSawThem(VertxTestContext ctx) {
    String key = "bg:lock:{promoted}";
    setAndRelease(List.of(key)).compose(before -> {
      RedisProcess replica = cluster.replicaOf(key);
      replica.call("SCRIPT", "FLUSH");
      RedisProcess promoted = cluster.failover(key);
      ctx.verify(() -> assertEquals(promoted, cluster.masterOf(key)));
      return setAndRelease(List.of(key));
    }).onComplete(ctx.succeeding(after -> ctx.verify(() -> {
      assertEquals(List.of(1L), after, "script ran on the promoted master");
      assertTrue(cachedOnOwner(key));
      ctx.completeNow();
    })));
  }

  @Test
  void sixtyFourConcurrentSessionsFromEightEventLoopsOnAPoolOfFourAllComplete(Vertx vertx, VertxTestContext ctx) {
    // 64 callers, each sending 20 commands one after the other, spread over 8 event loops: four times more
    // concurrent commands than the pool has connections per node (the pooled client deadlocked here).
    List<String> keys = keysOnEveryMaster(64);
    List<Future<Integer>> sessions = new ArrayList<>();
    for (int loop = 0; loop < 8; loop++) {
      ContextInternal context = ((VertxInternal) vertx).createEventLoopContext();
      for (String k : keys.subList(loop * 8, loop * 8 + 8)) {
        Promise<Integer> done = Promise.promise();
        context.runOnContext(v -> session(k, 20).onComplete(done));
        sessions.add(done.future());
      }
    }
    Future.all(sessions).onComplete(ctx.succeeding(results -> ctx.verify(() -> {
      assertEquals(Collections.nCopies(64, 20), results.list(), "every session ran all its commands");
      ctx.completeNow();
    })));
  }

  /** {@code n} INCRs of {@code key}, one after the other; the final count. */
  private Future<Integer> session(String key, int n) {
    Future<Integer> chain = Future.succeededFuture(0);
    for (int i = 0; i < n; i++) {
      chain = chain.compose(x -> redis.send(Request.cmd(Command.INCR).arg(key)).map(Response::toInteger));
    }
    return chain;
  }

  /**
   * While a slot migrates, a script whose keys the migration split between the two nodes is answered {@code TRYAGAIN}
   * (Redis did not run it). The client handed that to the caller, and a webhook was answered 503 until the move
   * ended; it now sends the command again shortly, within the call's deadline.
   */
  @Test
  void aScriptMeetingTryAgainDuringASlotMigrationRunsOnceTheSlotSettles(Vertx vertx, VertxTestContext ctx) {
    String present = "bg:lock:{migrating}a";
    String missing = "bg:lock:{migrating}b";
    RedisProcess source = cluster.masterOf(present);
    Runnable settle = splitSlot(present);
    Request script = Request.cmd(Command.EVAL).arg(EXISTS_BOTH).arg(2).arg(present).arg(missing);
    // And as the webhook ingest sends it where masters have replicas: the script, then WAIT, in one pipeline.
    List<Request> scriptAndWait = existsAndWait(present, missing);
    Resp.Error split = assertThrows(Resp.Error.class, () -> source.call("EVAL", EXISTS_BOTH, "2",
      present, missing), "the migration splits the keys");
    // Redis 7 answers TRYAGAIN here; 6.2 sends the call on (ASK), where the target, holding neither key, answers it.
    assertTrue(split.getMessage().startsWith("TRYAGAIN") || split.getMessage().startsWith("ASK"), split.getMessage());
    // The migration lasts 300 ms from here (the scenario: how long the slot is split), then the slot settles.
    vertx.setTimer(300, t -> vertx.executeBlocking(() -> {
      settle.run();
      return null;
    }));
    io.vertx.core.CompositeFuture both = Future.join(redis.send(script), redis.batch(scriptAndWait));
    both.onComplete(ar -> {
      vertx.executeBlocking(() -> {
        settle.run();
        return null;
      }).onComplete(x -> ctx.verify(() -> {
        assertTrue(both.succeeded(0), () -> "ran once the slot settled: " + both.cause(0));
        assertEquals(1L, both.<Response>resultAt(0).toLong(), "the key that was there");
        assertTrue(both.succeeded(1), () -> "the pipeline too: " + both.cause(1));
        assertEquals(1L, both.<List<Response>>resultAt(1).get(0).toLong(), "the pipeline's script");
        ctx.completeNow();
      }));
    });
  }

  @Test
  void aDeadMasterFailsOnlyItsOwnSlotsAndItsSlotsComeBackAfterFailover(Vertx vertx, VertxTestContext ctx) {
    List<String> keys = keysOnEveryMaster(30);
    String victimKey = keys.get(0);
    RedisProcess victim = cluster.masterOf(victimKey);
    List<String> others = keys.stream().filter(k -> !cluster.masterOf(k).equals(victim)).collect(Collectors.toList());
    assertTrue(others.size() >= 10);
    setAndRelease(keys).compose(warm -> {
      victim.kill();
      // Every command on the surviving masters must succeed: had the dead node stalled the client, they would
      // run into the command timeout and fail.
      List<Future<Response>> survivors = new ArrayList<>();
      for (int round = 0; round < 5; round++) {
        for (String k : others) {
          survivors.add(redis.send(Request.cmd(Command.INCR).arg(k)));
        }
      }
      return Future.all(survivors);
    }).compose(ok -> {
      ctx.verify(() -> assertNotEquals(victim, cluster.replicaOf(others.get(0))));
      return Eventually.until(vertx, () -> redis.send(Request.cmd(Command.SET).arg(victimKey).arg("token"))
        .compose(set -> RELEASE.run(redis, List.of(victimKey), List.of("token")))
        .map(r -> r.toLong() == 1L), 20_000, "the dead master's slot served by its promoted replica");
    }).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertTrue(!victim.isAlive());
      ctx.completeNow();
    })));
  }

  @Test
  // Waiting for every node to agree on the new master can take most of the default 30 s on a loaded machine.
  @io.vertx.junit5.Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  void survivorsAnswerEveryCommandThroughAWholeFailoverAndTheDeadSlotsComeBackAfterIt(Vertx vertx, VertxTestContext ctx) {
    List<String> keys = keysOnEveryMaster(30);
    String victimKey = keys.get(0);
    RedisProcess victim = cluster.masterOf(victimKey);
    List<String> others = keys.stream().filter(k -> !cluster.masterOf(k).equals(victim)).collect(Collectors.toList());
    List<String> survivorFailures = Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.atomic.AtomicInteger rounds = new java.util.concurrent.atomic.AtomicInteger();
    setAndRelease(keys).compose(warm -> {
      // Commands for the dead master's slot go on all along: they make the client notice the dead node and look
      // for the new owner, which must not disturb the other masters' slots at any moment.
      Future<Void> failover = vertx.executeBlocking(() -> {
        cluster.killMasterAndAwaitFailover(victimKey);
        return null;
      });
      return rounds(vertx, failover, victimKey, others, survivorFailures, rounds).map(failover);
    }).compose(failover -> Eventually.until(vertx, () -> redis.send(Request.cmd(Command.INCR).arg(victimKey))
        .map(true), 10_000, "the dead master's slot served by its promoted replica"))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertEquals(List.of(), survivorFailures, "commands on the surviving masters during the failover");
        assertTrue(rounds.get() > 1, "rounds sent while the master was dead: " + rounds.get());
        ctx.completeNow();
      })));
  }

  /**
   * Rounds of one command per surviving key plus one for the dead slot, until {@code until} completes. One promise
   * for the whole run, each round started from a fresh task: chaining a future per round nests thousands of
   * completions (a round takes about a millisecond), and completing them at the end overflowed the stack.
   */
  private Future<Void> rounds(Vertx vertx, Future<Void> until, String deadKey, List<String> others, List<String> failures,
                              java.util.concurrent.atomic.AtomicInteger rounds) {
    Promise<Void> done = Promise.promise();
    round(vertx, until, deadKey, others, failures, rounds, done);
    return done.future();
  }

  private void round(Vertx vertx, Future<Void> until, String deadKey, List<String> others, List<String> failures,
                     java.util.concurrent.atomic.AtomicInteger rounds, Promise<Void> done) {
    if (until.isComplete()) {
      done.complete();
      return;
    }
    rounds.incrementAndGet();
    List<Future<Response>> round = new ArrayList<>();
    for (String k : others) {
      round.add(redis.send(Request.cmd(Command.INCR).arg(k)).onFailure(err -> failures.add(k + ": " + err)));
    }
    Future<Response> dead = redis.send(Request.cmd(Command.INCR).arg(deadKey));
    Future.join(round).eventually(() -> dead.otherwiseEmpty())
      .onComplete(ar -> vertx.runOnContext(v -> round(vertx, until, deadKey, others, failures, rounds, done)));
  }

  @Test
  void aDeadReplicaChangesNothingForCallers(VertxTestContext ctx) {
    List<String> keys = keysOnEveryMaster(30);
    RedisProcess replica = cluster.replicaOf(keys.get(0));
    replica.kill();
    setAndRelease(keys).compose(first -> setAndRelease(keys)).onComplete(ctx.succeeding(second -> ctx.verify(() -> {
      assertEquals(Collections.nCopies(keys.size(), 1L), second, "every key's master answered");
      assertTrue(!replica.isAlive());
      ctx.completeNow();
    })));
  }

  @Test
  void everyCallEndsWithinTheTimeoutWhenNoNodeIsReachable(Vertx vertx, VertxTestContext ctx) {
    Redis nowhere = RedisClients.create(vertx, new RedisConfig(new JsonObject().put("type", "cluster")
      .put("endpoints", new io.vertx.core.json.JsonArray().add("redis://127.0.0.1:1")).put("commandTimeoutMs", 300)));
    nowhere.send(Request.cmd(Command.GET).arg("k")).onComplete(ar -> ctx.verify(() -> {
      assertTrue(ar.failed());
      nowhere.close();
      ctx.completeNow();
    }));
  }
}
