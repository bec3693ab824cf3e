package dev.biogate.redis;

import dev.biogate.config.ConfigException;
import dev.biogate.support.Harness;
import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every instance of a deployment must use the same {@code webhooks.shards}: a delivery's shard is its body digest
 * modulo the count. Found in a drill: an instance on 8 shards next to one on 16 answered 13 of 20 redeliveries
 * {@code 503 unavailable} (they landed on shards the other instance's dedupe never saw, under route pins naming shards
 * it does not have), logged nothing, and had started without a word. The first instance now records the count in
 * Redis, and one configured otherwise stops its start naming the setting; Redis not answering is an outage, started
 * through.
 */
@ExtendWith(VertxExtension.class)
class ShardCountTest {

  private static JsonObject shards(int n) {
    return new JsonObject().put("webhooks", new JsonObject().put("shards", n));
  }

  @Test
  void theFirstInstanceRecordsTheCountAndAnInstanceConfiguredOtherwiseFailsTheStart(Vertx vertx, VertxTestContext ctx) {
    Harness h = new Harness(vertx);
    List<Throwable> failures = new ArrayList<>();
    String[] recorded = new String[2];
    h.start()
      .compose(v -> h.gateway(new JsonObject()))
      .compose(a -> h.redis(Request.cmd(Command.GET).arg(RedisKeys.WEBHOOK_SHARDS)).map(r -> recorded[0] = String.valueOf(r)))
      .compose(v -> h.gateway(shards(8)).transform(ar -> {
        failures.add(ar.failed() ? ar.cause() : null);
        return ar.succeeded() ? h.close(ar.result()) : Future.succeededFuture();
      }))
      // The same count as recorded starts, however it is written.
      .compose(v -> h.gateway(shards(Shards.DEFAULT_COUNT)).transform(ar -> {
        failures.add(ar.failed() ? ar.cause() : null);
        return ar.succeeded() ? h.close(ar.result()) : Future.succeededFuture();
      }))
      // A deliberate change (README): every instance stopped, the record deleted; the next start records its count.
      .compose(v -> h.close())
      .compose(v -> h.redis(Request.cmd(Command.DEL).arg(RedisKeys.WEBHOOK_SHARDS)))
      .compose(v -> h.gateway(shards(8)))
      .compose(f -> h.redis(Request.cmd(Command.GET).arg(RedisKeys.WEBHOOK_SHARDS)).map(r -> recorded[1] = String.valueOf(r)))
      .eventually(h::close)
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertEquals("16", recorded[0], "the first instance records its count");
        Throwable refused = failures.get(0);
        assertTrue(refused instanceof ConfigException, "failed the start on a setting: " + refused);
        String m = refused.getMessage();
        assertTrue(m.contains("webhooks.shards"), "names the setting: " + m);
        assertTrue(m.contains("8") && m.contains("16") && m.contains(RedisKeys.WEBHOOK_SHARDS), m);
        assertNull(failures.get(1), "the recorded count starts");
        assertEquals("8", recorded[1], "after the record is deleted, the next instance records its own count");
        ctx.completeNow();
      })));
  }

  /** The count is not checked while Redis does not answer: the start goes through, as through any outage. */
  @Test
  void aStartDuringARedisOutageGoesThroughUnchecked(Vertx vertx, VertxTestContext ctx) throws Exception {
    EmbeddedRedis down = TestRedis.dedicated();
    String url = down.url();
    down.close();
    Harness h = new Harness(vertx);
    long started = System.nanoTime();
    h.startOn(new JsonObject().put("url", url).put("commandTimeoutMs", 500))
      .compose(v -> h.gateway(shards(8)))
      .eventually(h::close)
      .onComplete(ctx.succeeding(g -> ctx.verify(() -> {
        long ms = (System.nanoTime() - started) / 1_000_000;
        assertTrue(ms < 15_000, "started within the command timeouts, not blocked: " + ms + " ms");
        ctx.completeNow();
      })));
  }

  /** Through the entry point {@code main} uses: exit status 2 and one line naming the variable it was set by. */
  @Test
  void aMismatchedCountExitsWithStatus2NamingBIOGATE_WEBHOOKS_SHARDS(@TempDir Path dir) throws Exception {
    EmbeddedRedis redis = TestRedis.dedicated();
    try {
      dev.biogate.support.Resp.call(redis.port(), "SET", RedisKeys.WEBHOOK_SHARDS, "16");
      Map<String, String> env = new HashMap<>();
      env.put("BIOGATE_HTTP_PORT", "0");
      env.put("BIOGATE_MANAGEMENT_PORT", "0");
      env.put("BIOGATE_SANDBOX_PORT", "0");
      env.put("BIOGATE_CLICK_JOURNAL", dir.resolve("clicks.journal").toString());
      env.put("REDIS_URL", redis.url());
      env.put("BIOGATE_WEBHOOKS_SHARDS", "8");
      java.lang.reflect.Method run = dev.biogate.Main.class.getDeclaredMethod("run", String[].class, Map.class,
        PrintStream.class, PrintStream.class);
      run.setAccessible(true);
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int status = (int) run.invoke(null, new String[] {"serve"}, env, new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
      String line = err.toString(StandardCharsets.UTF_8).strip();
      assertEquals(2, status, line);
      assertTrue(line.startsWith("biogate: invalid configuration: BIOGATE_WEBHOOKS_SHARDS"), line);
      assertEquals(1, line.split("\n").length, "one line: " + line);
    } finally {
      redis.close();
    }
  }

  /**
   * Redis came back empty (a restart without its data, FLUSHALL): running instances record their count again, so the
   * check still holds for the next start. Found in a Cluster drill: after a FLUSHALL an instance on 8 shards started
   * next to instances on 16, recorded 8, handled 46 of 100 retries a second time, and a 16-shard start then failed.
   */
  @Test
  void runningInstancesRecordTheCountAgainAfterRedisLostIt(Vertx vertx, VertxTestContext ctx) {
    Harness h = new Harness(vertx);
    Throwable[] refused = new Throwable[1];
    h.start()
      .compose(v -> h.gateway(new JsonObject()))
      .compose(a -> h.redis(Request.cmd(Command.FLUSHALL)))
      .compose(v -> h.eventually(() -> h.redis(Request.cmd(Command.GET).arg(RedisKeys.WEBHOOK_SHARDS))
        .map(r -> r != null && "16".equals(r.toString())), 15_000))
      .compose(v -> h.gateway(shards(8)).transform(ar -> {
        refused[0] = ar.failed() ? ar.cause() : null;
        return ar.succeeded() ? h.close(ar.result()) : Future.succeededFuture();
      }))
      .eventually(h::close)
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertTrue(refused[0] instanceof ConfigException, "an 8-shard start next to a 16-shard instance: " + refused[0]);
        ctx.completeNow();
      })));
  }
}
