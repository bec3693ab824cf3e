package dev.biogate.redis;

import dev.biogate.support.Eventually;
import dev.biogate.support.LogCapture;
import dev.biogate.support.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A drill restarted a Redis without persistence: every redelivered webhook was accepted and processed again, and
 * nothing had warned the operator. The gateway now says so once at start-up.
 */
@ExtendWith(VertxExtension.class)
class RedisPersistenceTest {

  private EmbeddedRedis server;
  private Redis redis;

  @AfterEach
  void stop() throws Exception {
    if (redis != null) {
      redis.close();
    }
    if (server != null) {
      server.close();
    }
  }

  /**
   * Managed Redis services often disable {@code CONFIG}: the persistence check must neither warn (it cannot know) nor
   * fail, and nothing else the gateway does at start-up may need the command.
   */
  @Test
  void aRedisThatRefusesConfigIsNotJudgedAndTheGatewayServesOnIt(Vertx vertx, VertxTestContext ctx) {
    dev.biogate.support.RedisProcess managed = dev.biogate.support.RedisProcess.start("no-config",
      java.util.List.of("rename-command CONFIG \"\""), false, false);
    redis = Redis.createClient(vertx, managed.url());
    dev.biogate.support.Harness h = new dev.biogate.support.Harness(vertx);
    LogCapture capture = LogCapture.of(RedisPersistence.class, e -> e.getLevel() + " " + e.getFormattedMessage());
    redis.send(Request.cmd(Command.CONFIG).arg("GET").arg("appendonly")).transform(ar -> {
        assertTrue(ar.failed(), "the server refuses CONFIG");
        return RedisPersistence.warnIfVolatile(redis);
      })
      .compose(warned -> {
        assertFalse(warned);
        return h.start(managed.url(), new io.vertx.core.json.JsonObject());
      })
      .compose(x -> h.gateway(new io.vertx.core.json.JsonObject()))
      .compose(g -> h.get(g, "/v1/profiles/demo").compose(profile -> h.get(g, "/health/ready").map(ready -> new int[] {
        profile.statusCode(), ready.statusCode()})))
      .eventually(() -> h.close().eventually(() -> vertx.executeBlocking(() -> {
        managed.kill();
        return null;
      })))
      .onComplete(ctx.succeeding(codes -> ctx.verify(() -> {
        capture.close();
        assertEquals(200, codes[0], "a profile is served");
        assertEquals(200, codes[1], "the instance is ready");
        assertTrue(capture.lines().stream().noneMatch(l -> l.startsWith("WARN")), capture.lines().toString());
        ctx.completeNow();
      })));
  }

  @Test
  void aRedisKeepingNothingIsReportedAndOneWithAofIsNot(Vertx vertx, VertxTestContext ctx) {
    server = TestRedis.dedicated();
    redis = Redis.createClient(vertx, server.url());
    LogCapture capture = LogCapture.of(RedisPersistence.class, e -> e.getLevel() + " " + e.getFormattedMessage());
    RedisPersistence.warnIfVolatile(redis)
      .compose(warned -> redis.send(Request.cmd(Command.CONFIG).arg("SET").arg("appendonly").arg("yes"))
        .compose(v -> RedisPersistence.warnIfVolatile(redis)).map(again -> new boolean[] {warned, again}))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        capture.close();
        assertTrue(r[0], "no AOF, no save points: warned");
        assertFalse(r[1], "with AOF: not warned");
        assertEquals(1, capture.lines().stream().filter(l -> l.startsWith("WARN redis keeps nothing across a restart")).count(),
          capture.lines().toString());
        ctx.completeNow();
      })));
  }
  /**
   * A drill started the gateways on a server with AOF, then restarted that server without it: nothing was logged, as
   * the look was taken at start-up only. The watch tells each change to "keeps nothing", and only the change.
   */
  @Test
  void aServerThatLosesItsPersistenceWhileTheGatewayRunsIsReported(Vertx vertx, VertxTestContext ctx) {
    server = TestRedis.dedicated();
    redis = Redis.createClient(vertx, server.url());
    LogCapture capture = LogCapture.of(RedisPersistence.class, e -> e.getLevel() + " " + e.getFormattedMessage());
    java.util.function.Supplier<Long> warnings = () -> capture.lines().stream()
      .filter(l -> l.startsWith("WARN redis keeps nothing across a restart")).count();
    RedisPersistence.Watch[] watch = new RedisPersistence.Watch[1];
    setAof("yes")
      .compose(v -> {
        watch[0] = RedisPersistence.watch(vertx, redis, 50);
        return checks(vertx, watch[0], 3);
      })
      .compose(v -> {
        assertEquals(0L, warnings.get(), "with AOF: not warned " + capture.lines());
        assertEquals(Boolean.FALSE, watch[0].keepsNothingNow(), "with AOF: keeps its data");
        return setAof("no");
      })
      .compose(v -> Eventually.until(vertx, () -> io.vertx.core.Future.succeededFuture(warnings.get() == 1), 10_000, "warned"))
      .map(v -> {
        assertEquals(Boolean.TRUE, watch[0].keepsNothingNow(), "without AOF or save points: keeps nothing");
        return v;
      })
      .compose(v -> checks(vertx, watch[0], 5))
      .compose(v -> {
        assertEquals(1L, warnings.get(), "warned once for one change: " + capture.lines());
        return setAof("yes");
      })
      .compose(v -> Eventually.until(vertx, () -> io.vertx.core.Future.succeededFuture(capture.lines().stream()
        .anyMatch(l -> l.startsWith("INFO redis keeps its data across a restart again"))), 10_000, "told it keeps data again"))
      .compose(v -> setAof("no"))
      .compose(v -> Eventually.until(vertx, () -> io.vertx.core.Future.succeededFuture(warnings.get() == 2), 10_000, "warned again"))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        watch[0].close();
        capture.close();
        ctx.completeNow();
      })));
  }

  private io.vertx.core.Future<Void> setAof(String value) {
    return redis.send(Request.cmd(Command.CONFIG).arg("SET").arg("appendonly").arg(value)).mapEmpty();
  }

  /** Until the watch has completed {@code more} further looks. */
  private static io.vertx.core.Future<Void> checks(Vertx vertx, RedisPersistence.Watch watch, int more) {
    long target = watch.checks() + more;
    return Eventually.until(vertx, () -> io.vertx.core.Future.succeededFuture(watch.checks() >= target), 10_000, more + " more looks");
  }
}
