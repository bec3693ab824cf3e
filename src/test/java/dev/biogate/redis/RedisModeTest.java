package dev.biogate.redis;

import dev.biogate.config.ConfigException;
import dev.biogate.support.Harness;
import dev.biogate.support.TestCluster;
import dev.biogate.support.TestRedis;
import dev.biogate.support.TestSentinel;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.ExtendWith;

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
 * A Redis type that does not match the server it names is a mistake, not an outage. A standalone server named as a
 * Cluster used to start and stay degraded forever ("ERR This instance has cluster support disabled" at every call),
 * and preflight called it "unreachable". Each such start now fails naming {@code redis.type} and what the endpoint
 * is; endpoints that do not answer are still an outage, started through.
 */
@ExtendWith(VertxExtension.class)
class RedisModeTest {

  private record Case(JsonObject redis, String says) {
  }

  @Test
  void aTypeThatDoesNotMatchTheServerFailsTheStartNamingTheSettingAndTheServer(Vertx vertx, VertxTestContext ctx) {
    String standalone = TestRedis.url();
    String clusterNode = TestCluster.get().endpoints().get(0);
    String sentinel = TestSentinel.get().sentinels().get(0).url();
    List<Case> cases = List.of(
      new Case(new JsonObject().put("type", "cluster").put("url", standalone), "standalone"),
      new Case(new JsonObject().put("type", "standalone").put("url", clusterNode), "Cluster node"),
      new Case(new JsonObject().put("type", "sentinel").put("url", standalone).put("masterName", "biogate"), "not a Sentinel"),
      new Case(new JsonObject().put("type", "standalone").put("url", sentinel), "is a Sentinel"));
    Harness h = new Harness(vertx);
    List<Throwable> failures = new ArrayList<>();
    Future<?> chain = h.start();
    for (Case c : cases) {
      chain = chain.compose(v -> h.gateway(new JsonObject().put("redis", c.redis()))
        .transform(ar -> {
          failures.add(ar.failed() ? ar.cause() : null);
          return ar.succeeded() ? h.close(ar.result()) : Future.succeededFuture();
        }));
    }
    chain.eventually(h::close).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      for (int i = 0; i < cases.size(); i++) {
        Throwable failure = failures.get(i);
        Case c = cases.get(i);
        assertTrue(failure instanceof ConfigException, c.redis() + " failed the start on a setting: " + failure);
        String m = failure.getMessage();
        assertTrue(m.contains("redis.type"), m);
        assertTrue(m.contains(c.says()), c.redis() + ": " + m);
        assertTrue(m.contains(c.redis().getString("url").replace("redis://", "")), "names the endpoint: " + m);
      }
      ctx.completeNow();
    })));
  }

  /** The probe says nothing of endpoints that do not answer, and nothing of a server of the configured kind. */
  @Test
  void aServerOfTheConfiguredKindOrNoAnswerIsNoMismatch(Vertx vertx, VertxTestContext ctx) {
    dev.biogate.config.RedisConfig right = new dev.biogate.config.RedisConfig(TestCluster.get().redisConfig());
    dev.biogate.config.RedisConfig silent = new dev.biogate.config.RedisConfig(new JsonObject().put("type", "cluster")
      .put("url", "redis://127.0.0.1:1").put("commandTimeoutMs", 500));
    RedisMode.mismatch(vertx, right)
      .compose(a -> RedisMode.mismatch(vertx, silent).map(b -> new String[] {a, b}))
      .onComplete(ctx.succeeding(seen -> ctx.verify(() -> {
        assertNull(seen[0], "a Cluster named as one");
        assertNull(seen[1], "nothing listening");
        ctx.completeNow();
      })));
  }

  /**
   * A server that refuses the configured credentials (a wrong password, or none where one is required) can never work
   * either: the start used to go through, degraded for good, with /health calling Redis "unreachable".
   */
  @Test
  void credentialsTheServerRefusesFailTheStartNamingThePasswordSetting(Vertx vertx, VertxTestContext ctx) throws Exception {
    EmbeddedRedis locked = TestRedis.dedicated();
    dev.biogate.support.Resp.call(locked.port(), "CONFIG", "SET", "requirepass", "the-right-password");
    String wrong = "redis://:not-the-password@127.0.0.1:" + locked.port();
    String none = "redis://127.0.0.1:" + locked.port();
    Harness h = new Harness(vertx);
    List<Throwable> failures = new ArrayList<>();
    h.start()
      .compose(v -> h.gateway(new JsonObject().put("redis", new JsonObject().put("url", wrong).put("commandTimeoutMs", 2_000)))
        .transform(ar -> {
          failures.add(ar.failed() ? ar.cause() : null);
          return ar.succeeded() ? h.close(ar.result()) : Future.succeededFuture();
        }))
      .compose(v -> h.gateway(new JsonObject().put("redis", new JsonObject().put("url", none).put("commandTimeoutMs", 2_000)))
        .transform(ar -> {
          failures.add(ar.failed() ? ar.cause() : null);
          return ar.succeeded() ? h.close(ar.result()) : Future.succeededFuture();
        }))
      .eventually(h::close)
      .eventually(() -> vertx.executeBlocking(() -> {
        locked.close();
        return null;
      }))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        for (Throwable failure : failures) {
          assertTrue(failure instanceof ConfigException, "failed the start on a setting: " + failure);
          String m = failure.getMessage();
          assertTrue(m.contains("redis.url") && m.contains("127.0.0.1:" + locked.port()), m);
          assertTrue(!m.contains("not-the-password"), "the password stays out of the message: " + m);
        }
        assertTrue(failures.get(0).getMessage().contains("refused"), failures.get(0).getMessage());
        assertTrue(failures.get(1).getMessage().contains("requires a password"), failures.get(1).getMessage());
        ctx.completeNow();
      })));
  }

  /**
   * Under Sentinel the data node is the master the Sentinels name: a wrong password for it, or none where it requires
   * one, used to start (the check skipped Sentinel deployments) and stay degraded for good. The right one starts.
   */
  @Test
  void aSentinelsMasterThatRefusesTheCredentialsFailsTheStart(Vertx vertx, VertxTestContext ctx) throws Exception {
    sentinelStarts(vertx, ctx, false);
  }

  /**
   * README: such a start "stops the start with exit 2 naming REDIS_TYPE". Through the entry point {@code main} uses
   * ({@code Main.run}, which returns the status {@code main} exits with), configured by environment as in the README.
   */
  @Test
  void aMismatchedTypeExitsWithStatus2NamingREDIS_TYPE(@TempDir Path dir) throws Exception {
    Map<String, String> env = serveEnv(dir);
    env.put("REDIS_TYPE", "cluster");
    env.put("REDIS_ENDPOINTS", TestRedis.url());
    Exit exit = serve(env);
    assertEquals(2, exit.status(), exit.err());
    String line = exit.err().strip();
    assertTrue(line.startsWith("biogate: invalid configuration: REDIS_TYPE"), "names REDIS_TYPE first: " + line);
    assertTrue(line.contains("standalone") && line.contains(TestRedis.url().replace("redis://", "")), line);
  }

  /**
   * README: a server refusing the password, or requiring one where none is given, "stops the start with exit 2 ...
   * naming the setting the password comes from": {@code REDIS_PASSWORD} when it comes from there, the URL otherwise.
   */
  @Test
  void refusedCredentialsExitWithStatus2NamingTheSettingThePasswordComesFrom(@TempDir Path dir) throws Exception {
    EmbeddedRedis locked = TestRedis.dedicated();
    try {
      dev.biogate.support.Resp.call(locked.port(), "CONFIG", "SET", "requirepass", "the-right-password");
      String url = "redis://127.0.0.1:" + locked.port();
      Map<String, String> wrong = serveEnv(dir);
      wrong.put("REDIS_URL", url);
      wrong.put("REDIS_PASSWORD", "not-the-password");
      Map<String, String> none = serveEnv(dir);
      none.put("REDIS_URL", url);
      Exit refused = serve(wrong);
      Exit missing = serve(none);

      assertEquals(2, refused.status(), refused.err());
      String r = refused.err().strip();
      assertTrue(r.startsWith("biogate: invalid configuration: REDIS_PASSWORD"), "names REDIS_PASSWORD: " + r);
      assertTrue(r.contains("refused") && r.contains("127.0.0.1:" + locked.port()), r);
      assertTrue(!r.contains("not-the-password"), "the password stays out of the message: " + r);

      assertEquals(2, missing.status(), missing.err());
      String m = missing.err().strip();
      assertTrue(m.startsWith("biogate: invalid configuration: REDIS_URL"), "names REDIS_URL: " + m);
      assertTrue(m.contains("requires a password"), m);
    } finally {
      locked.close();
    }
  }

  /**
   * A database the server does not have ({@code redis://host:port/99} against the usual 16) can never work either: the
   * start went through, every stream, the budget and every fetch failed with {@code ERR DB index is out of range}, and
   * /health called Redis healthy (a newcomer's first hour). It now stops the start with exit 2 naming the URL's setting.
   */
  @Test
  void aDatabaseTheServerDoesNotHaveExitsWithStatus2NamingREDIS_URL(@TempDir Path dir) throws Exception {
    Map<String, String> env = serveEnv(dir);
    env.put("REDIS_URL", TestRedis.url() + "/99");
    Exit exit = serve(env);
    assertEquals(2, exit.status(), exit.err());
    String line = exit.err().strip();
    assertTrue(line.startsWith("biogate: invalid configuration: REDIS_URL"), "names REDIS_URL first: " + line);
    assertTrue(line.contains("has no database 99"), line);
  }

  private record Exit(int status, String err) {
  }

  /** Environment for a {@code serve} on ephemeral ports, its journal in {@code dir}. */
  private static Map<String, String> serveEnv(Path dir) {
    Map<String, String> env = new HashMap<>();
    env.put("BIOGATE_HTTP_PORT", "0");
    env.put("BIOGATE_MANAGEMENT_PORT", "0");
    env.put("BIOGATE_SANDBOX_PORT", "0");
    env.put("BIOGATE_CLICK_JOURNAL", dir.resolve("clicks.journal").toString());
    return env;
  }

  /**
   * {@code java -jar biogate.jar serve} in this JVM: {@code Main.run} (package-private, hence reflection), the method
   * {@code main} calls and whose result it exits with. Only for starts that fail: a started gateway would keep running.
   */
  private static Exit serve(Map<String, String> env) throws Exception {
    java.lang.reflect.Method run = dev.biogate.Main.class.getDeclaredMethod("run", String[].class, Map.class,
      PrintStream.class, PrintStream.class);
    run.setAccessible(true);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = (int) run.invoke(null, new String[] {"serve"}, env, new PrintStream(out, true, StandardCharsets.UTF_8),
      new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Exit(status, err.toString(StandardCharsets.UTF_8));
  }

  /**
   * Sentinels that require a password themselves: one refusing the configured password (or given none) used to let
   * the start go through ("did not answer"), degraded for good with Redis "unreachable". It now fails naming the
   * password's setting and that a Sentinel refused; the right password, sent to the Sentinels and to the master
   * alike, starts.
   */
  @Test
  void aSentinelThatRefusesTheCredentialsFailsTheStart(Vertx vertx, VertxTestContext ctx) throws Exception {
    sentinelStarts(vertx, ctx, true);
  }

  /**
   * Starts gateways on a Sentinel of its own for a master requiring a password (the Sentinel too when
   * {@code guardedSentinel}): with a wrong password and with none the start fails on the password's setting, naming
   * the server that refused (the master, or the Sentinel) and never the password; with the right one it starts.
   */
  private static void sentinelStarts(Vertx vertx, VertxTestContext ctx, boolean guardedSentinel) throws Exception {
    EmbeddedRedis locked = TestRedis.dedicated();
    dev.biogate.support.Resp.call(locked.port(), "CONFIG", "SET", "requirepass", "the-right-password");
    dev.biogate.support.RedisProcess sentinel = dev.biogate.support.RedisProcess.start("locked-sentinel",
      List.of("sentinel monitor locked 127.0.0.1 " + locked.port() + " 1", "sentinel auth-pass locked the-right-password"),
      true, false);
    if (guardedSentinel) {
      sentinel.call("ACL", "SETUSER", "default", "resetpass", ">the-right-password");
    }
    String refuser = guardedSentinel ? "127.0.0.1:" + sentinel.port() : "127.0.0.1:" + locked.port();
    String what = guardedSentinel ? "(a Sentinel)" : "the master the Sentinels name";
    JsonObject base = new JsonObject().put("type", "sentinel").put("url", sentinel.url()).put("masterName", "locked")
      .put("commandTimeoutMs", 2_000);
    List<JsonObject> configs = List.of(base.copy().put("password", "not-the-password"), base.copy(),
      base.copy().put("password", "the-right-password"));
    Harness h = new Harness(vertx);
    List<Throwable> failures = new ArrayList<>();
    Future<?> chain = h.start();
    for (JsonObject redis : configs) {
      chain = chain.compose(v -> h.gateway(new JsonObject().put("redis", redis)).transform(ar -> {
        failures.add(ar.failed() ? ar.cause() : null);
        return ar.succeeded() ? h.close(ar.result()) : Future.succeededFuture();
      }));
    }
    chain.eventually(h::close)
      .eventually(() -> vertx.executeBlocking(() -> {
        sentinel.kill();
        locked.close();
        return null;
      }))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        for (Throwable failure : failures.subList(0, 2)) {
          assertTrue(failure instanceof ConfigException, "failed the start on a setting: " + failure);
          String m = failure.getMessage();
          assertTrue(m.contains(refuser) && m.contains(what), m);
          assertTrue(!m.contains("not-the-password") && !m.contains("the-right-password"), "no password in: " + m);
        }
        assertTrue(failures.get(0).getMessage().contains("redis.password") && failures.get(0).getMessage().contains("refused"),
          failures.get(0).getMessage());
        assertTrue(failures.get(1).getMessage().contains("requires a password"), failures.get(1).getMessage());
        assertNull(failures.get(2), "the right password starts");
        ctx.completeNow();
      })));
  }

  /**
   * A password configured for a server that requires none starts, with a risky-setting warning naming the setting
   * and the server, never the password: the server takes any password silently, so a newcomer pointing the gateway at
   * another, unprotected server saw nothing. An ACL user of its own is not second-guessed.
   */
  @Test
  void aPasswordTheServerDoesNotRequireIsWarnedAbout(Vertx vertx, VertxTestContext ctx) {
    dev.biogate.support.LogCapture warned = dev.biogate.support.LogCapture.of(dev.biogate.Gateway.class,
      e -> e.getFormattedMessage().startsWith("risky setting") ? e.getFormattedMessage() : null);
    String open = TestRedis.url().replaceFirst("^redis://", "redis://:an-unneeded-password@");
    Harness h = new Harness(vertx);
    h.start()
      .compose(v -> h.gateway(new JsonObject().put("redis", new JsonObject().put("url", open))))
      .compose(g -> h.close(g))
      .compose(v -> h.gateway(new JsonObject().put("redis", new JsonObject().put("url", TestRedis.url()))))
      .compose(g -> h.close(g))
      .eventually(h::close)
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        warned.close();
        List<String> lines = warned.lines();
        assertTrue(lines.size() == 1, "one warning, for the start with a password: " + lines);
        String m = lines.get(0);
        assertTrue(m.contains("redis.url") && m.contains("answers without a password")
          && m.contains(TestRedis.url().replaceFirst("^redis://", "")), m);
        assertTrue(!m.contains("an-unneeded-password"), "the password stays out of the log: " + m);
        ctx.completeNow();
      })));
  }
}
