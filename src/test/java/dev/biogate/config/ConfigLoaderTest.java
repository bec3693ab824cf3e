package dev.biogate.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {

  @TempDir
  Path dir;

  private Path base() throws IOException {
    Path p = dir.resolve("biogate.json");
    Files.writeString(p, new JsonObject().put("http", new JsonObject().put("port", 8080).put("host", "127.0.0.1"))
      .put("cache", new JsonObject().put("freshTtlMs", 60_000)).encode());
    return p;
  }

  @Test
  void environmentWinsOverConfigFileWhichWinsOverBase() throws IOException {
    Path extra = dir.resolve("extra.json");
    Files.writeString(extra, "{\"http\":{\"port\":9000,\"host\":\"0.0.0.0\"},\"cache\":{\"freshTtlMs\":5000}}");
    Map<String, String> env = Map.of("BIOGATE_CONFIG", extra.toString(), "BIOGATE_HTTP_PORT", "9100");
    BiogateConfig c = ConfigLoader.load(env, base());
    assertEquals(9100, c.http().port());
    assertEquals("0.0.0.0", c.http().host());
    assertEquals(5000, c.cache().freshTtlMs());
  }

  /**
   * A variable set to nothing does not replace the file's value: a deployment template's {@code REDIS_URL: ${REDIS_URL}}
   * with nothing behind it used to give every instance its own private Redis, a {@code LINKTREE_API_BASE=} the demo
   * sandbox, and a {@code BIOGATE_HTTP_PORT=} hid the file's invalid port. It is named among the risky settings.
   */
  /**
   * Unset, the HTTP verticles are two per core, as many as Vert.x's event loops: on two cores, one per core left
   * the cached read at 0.91 of the rate and 1.4 times the c64 p99 of four, and webhook ingest at 0.72 of the rate, with
   * wrk and Redis on the same cores (BENCHMARKS.md). A configured count is kept as it is.
   */
  @Test
  void theHttpVerticlesAreTwoPerCoreUnlessConfigured() throws IOException {
    int cores = Runtime.getRuntime().availableProcessors();
    assertEquals(2 * cores, ConfigLoader.load(Map.of(), base()).http().instances());
    assertEquals(io.vertx.core.VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE, ConfigLoader.load(Map.of(), base()).http().instances());
    assertEquals(3, ConfigLoader.load(Map.of("BIOGATE_HTTP_INSTANCES", "3"), base()).http().instances());
  }

  @Test
  void anEmptyVariableIsIgnoredAsIfUnsetAndNamed() throws IOException {
    Path file = dir.resolve("shared.json");
    Files.writeString(file, new JsonObject()
      .put("redis", new JsonObject().put("url", "redis://10.0.0.5:6379"))
      .put("linktree", new JsonObject().put("apiBase", "https://api.linktr.ee/v1"))
      .put("http", new JsonObject().put("host", "127.0.0.2")).encode());
    Map<String, String> env = new HashMap<>(Map.of("BIOGATE_CONFIG", file.toString(), "REDIS_URL", "",
      "LINKTREE_API_BASE", " ", "LINKTREE_API_TOKEN", "tok-0123456789", "BIOGATE_HTTP_HOST", "", "REDIS_PASSWORD_FILE", ""));
    BiogateConfig c = ConfigLoader.load(env, base());
    assertEquals(java.util.List.of("redis://10.0.0.5:6379"), c.redis().endpoints());
    assertFalse(c.redis().embedded(), "the file's Redis, not a private one");
    assertEquals("https://api.linktr.ee/v1", c.linktree().apiBase());
    assertEquals("127.0.0.2", c.http().host());
    for (String name : new String[] {"REDIS_URL", "LINKTREE_API_BASE", "BIOGATE_HTTP_HOST", "REDIS_PASSWORD_FILE"}) {
      assertTrue(c.warnings().contains(name + " is set but empty: ignored as if unset (the configuration file's value or the"
        + " default applies)"), name + " in " + c.warnings());
    }

    Files.writeString(file, "{\"http\":{\"port\":\"19620x\"}}");
    ConfigException bad = assertThrows(ConfigException.class,
      () -> ConfigLoader.load(Map.of("BIOGATE_CONFIG", file.toString(), "BIOGATE_HTTP_PORT", ""), base()));
    assertTrue(bad.getMessage().contains("http.port"), "the file's invalid port is reported: " + bad.getMessage());
  }

  /**
   * A Redis URL out of range, or next to a list of endpoints, stops the start naming the setting: port 99999
   * failed later with the client's "port p must be in range" (exit 1), and a URL next to Sentinel settings won, the
   * error then naming the URL's server instead of the Sentinels.
   */
  @Test
  void aRedisUrlOutOfRangeOrBesideEndpointsIsRefusedByName() throws IOException {
    for (String url : new String[] {"redis://127.0.0.1:99999", "redis://127.0.0.1:0"}) {
      ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of("REDIS_URL", url), base()));
      assertTrue(e.getMessage().contains("REDIS_URL") && e.getMessage().contains("outside 1-65535"), e.getMessage());
    }
    ConfigException both = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of("REDIS_URL", "redis://127.0.0.1:6379",
      "REDIS_TYPE", "sentinel", "REDIS_ENDPOINTS", "redis://127.0.0.1:26379", "REDIS_MASTER_NAME", "biogate"), base()));
    assertTrue(both.getMessage().startsWith("REDIS_URL") && both.getMessage().contains("REDIS_TYPE")
      && both.getMessage().contains("REDIS_ENDPOINTS"), both.getMessage());
    // A URL alone stays one seed of a Cluster (or the Sentinel to ask), as before.
    assertEquals(java.util.List.of("redis://127.0.0.1:7000"), ConfigLoader.load(Map.of("REDIS_URL", "redis://127.0.0.1:7000",
      "REDIS_TYPE", "cluster"), base()).redis().endpoints());
  }

  @Test
  void aClusterOrSentinelIsConfiguredFromTheEnvironment() throws IOException {
    BiogateConfig cluster = ConfigLoader.load(Map.of("REDIS_TYPE", "cluster",
      "REDIS_ENDPOINTS", "redis://r1:6379, redis://r2:6379,redis://r3:6379"), base());
    assertEquals(RedisConfig.Type.CLUSTER, cluster.redis().type());
    assertEquals(java.util.List.of("redis://r1:6379", "redis://r2:6379", "redis://r3:6379"), cluster.redis().endpoints());
    assertFalse(cluster.redis().embedded(), "no private Redis once endpoints are given");
    BiogateConfig sentinel = ConfigLoader.load(Map.of("REDIS_TYPE", "sentinel", "REDIS_MASTER_NAME", "mymaster",
      "REDIS_ENDPOINTS", "redis://s1:26379,redis://s2:26379"), base());
    assertEquals(RedisConfig.Type.SENTINEL, sentinel.redis().type());
    assertEquals("mymaster", sentinel.redis().masterName());
    ConfigException missing = assertThrows(ConfigException.class,
      () -> ConfigLoader.load(Map.of("REDIS_TYPE", "cluster"), base()).redis());
    assertTrue(missing.getMessage().contains("REDIS_ENDPOINTS") || missing.getMessage().contains("endpoints"), missing.getMessage());
  }

  @Test
  void clientIdentitySettingsComeFromTheEnvironment() throws IOException {
    BiogateConfig c = ConfigLoader.load(Map.of("BIOGATE_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1",
      "BIOGATE_EXEMPT_LOOPBACK", "true"), base());
    assertEquals(java.util.List.of("10.0.0.0/8", "192.168.1.1"), c.http().trustedProxies());
    assertTrue(c.http().exemptLoopback());
    assertFalse(ConfigLoader.load(Map.of(), base()).http().exemptLoopback(), "loopback is limited by default");
  }

  @Test
  void webhookShardCountIsSetFromTheEnvironmentAndValidatedUnderItsName() throws IOException {
    assertEquals(WebhookOptions.DEFAULT_SHARDS, ConfigLoader.load(Map.of(), base()).webhooks().shards());
    assertEquals(48, ConfigLoader.load(Map.of("BIOGATE_WEBHOOKS_SHARDS", "48"), base()).webhooks().shards());
    ConfigException e = assertThrows(ConfigException.class,
      () -> ConfigLoader.load(Map.of("BIOGATE_WEBHOOKS_SHARDS", "0"), base()));
    assertEquals("BIOGATE_WEBHOOKS_SHARDS (webhooks.shards)", e.setting());
  }

  /**
   * A config or secret file that cannot be read, or is not JSON, is named with the reason in words and, for JSON,
   * where the parser stopped; never the parser's message, which quotes the file (secrets included). They said
   * "(NoSuchFileException)" and "is not a JSON object" alone.
   */
  @Test
  void unreadableOrMalformedFilesAreExplainedWithoutQuotingThem() throws IOException {
    ConfigException missing = assertThrows(ConfigException.class,
      () -> ConfigLoader.load(Map.of("BIOGATE_CONFIG", dir.resolve("nope.json").toString()), base()));
    assertEquals("BIOGATE_CONFIG", missing.setting());
    assertTrue(missing.getMessage().endsWith("(no such file)"), missing.getMessage());
    ConfigException secretMissing = assertThrows(ConfigException.class,
      () -> ConfigLoader.load(Map.of("BIOGATE_ADMIN_TOKEN_FILE", dir.resolve("nope").toString()), base()));
    assertTrue(secretMissing.getMessage().endsWith("(no such file)"), secretMissing.getMessage());
    Path malformed = Files.writeString(dir.resolve("malformed.json"),
      "{\"webhooks\": {\"linktree\": {\"secrets\": \"do-not-print-me-0123456789\"}},\n  \"cache\": {");
    ConfigException broken = assertThrows(ConfigException.class,
      () -> ConfigLoader.load(Map.of("BIOGATE_CONFIG", malformed.toString()), base()));
    assertTrue(broken.getMessage().contains("is not a JSON object (invalid JSON at line 2, column"), broken.getMessage());
    assertFalse(broken.getMessage().contains("do-not-print-me"), broken.getMessage());
  }

  /**
   * A secret list that names no secret ({@code ","}) stops start-up: it started, and answered every delivery 503
   * webhook_disabled without a word about why. A list with a blank entry among secrets is still read.
   */
  @Test
  void aWebhookSecretListNamingNoSecretIsRefusedUnderItsName() throws IOException {
    for (String none : List.of(",", " , ", ",,")) {
      ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigLoader.load(Map.of("LINKTREE_WEBHOOK_SECRET", none), base()), none);
      assertEquals("LINKTREE_WEBHOOK_SECRET (webhooks.linktree.secrets)", e.setting());
      assertTrue(e.getMessage().contains("names no entry"), e.getMessage());
    }
    assertEquals(2, ConfigLoader.load(Map.of("LINKTREE_WEBHOOK_SECRET", "first-secret-0123456789,,second-secret-0123456789"), base())
      .webhooks().linktreeSecrets().size());
    assertEquals(0, ConfigLoader.load(Map.of(), base()).webhooks().linktreeSecrets().size());
  }

  @Test
  void zeroConfigMeansEmbeddedRedisAndSandboxUpstream() throws IOException {
    BiogateConfig c = ConfigLoader.load(Map.of(), base());
    assertTrue(c.redis().embedded());
    assertNull(c.linktree().apiBase());
    assertEquals(90, c.linktree().rateLimitPerMin());
  }

  @Test
  void redisUrlAndUpstreamBaseDisableTheEmbeddedServices() throws IOException {
    BiogateConfig c = ConfigLoader.load(Map.of("REDIS_URL", "redis://10.0.0.5:6380/2", "LINKTREE_API_BASE", "https://api.linktr.ee/v1/",
      "LINKTREE_API_TOKEN", "lt_token_value"), base());
    assertFalse(c.redis().embedded());
    assertEquals("https://api.linktr.ee/v1", c.linktree().apiBase());
  }

  @Test
  void readsSecretsFromMountedFilesAndNeverDumpsThem() throws IOException {
    Path token = dir.resolve("token");
    Files.writeString(token, "lt_secret_value\n");
    BiogateConfig c = ConfigLoader.load(Map.of("LINKTREE_API_TOKEN_FILE", token.toString()), base());
    assertEquals("lt_secret_value", c.linktree().token().reveal());
    assertEquals("****", c.linktree().token().toString());
    assertFalse(c.toJson().encode().contains("lt_secret_value"));
  }

  /**
   * Several endpoints without a type ran as standalone on one of them, silently (a newcomer's forgotten
   * {@code REDIS_TYPE}): a standalone Redis is one server, so that is refused, naming both settings.
   */
  @Test
  void severalEndpointsWithoutATypeAreRefused() throws IOException {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(
      Map.of("REDIS_ENDPOINTS", "redis://127.0.0.1:7000,redis://127.0.0.1:7001"), base()));
    assertTrue(e.getMessage().startsWith("REDIS_ENDPOINTS (redis.endpoints): names 2 servers"), e.getMessage());
    assertTrue(e.getMessage().contains("REDIS_TYPE"), e.getMessage());
    assertEquals(1, ConfigLoader.load(Map.of("REDIS_ENDPOINTS", "redis://127.0.0.1:7000"), base()).redis().endpoints().size(),
      "one endpoint is a standalone server");
  }

  @Test
  void namesTheEnvironmentVariableOfAnInvalidValue() throws IOException {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of("BIOGATE_HTTP_PORT", "eighty"), base()));
    assertEquals("BIOGATE_HTTP_PORT (http.port)", e.setting(), "the variable and the path it sets");
    assertTrue(e.getMessage().startsWith("BIOGATE_HTTP_PORT (http.port):"));
    ConfigException range = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of("LINKTREE_RATE_LIMIT_PER_MIN", "0"), base()));
    assertEquals("LINKTREE_RATE_LIMIT_PER_MIN (linktree.rateLimitPerMin)", range.setting());
    ConfigException url = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of("LINKTREE_API_BASE", "ftp://x"), base()));
    assertEquals("LINKTREE_API_BASE (linktree.apiBase)", url.setting());
    ConfigException cors = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of("BIOGATE_CORS_ORIGINS", "*"), base()));
    assertEquals("BIOGATE_CORS_ORIGINS (http.corsOrigins)", cors.setting());
  }

  @Test
  void namesTheJsonPathOfAnInvalidFileValue() throws IOException {
    Path extra = dir.resolve("bad.json");
    Files.writeString(extra, "{\"cache\":{\"freshTtlMs\":\"soon\"}}");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of("BIOGATE_CONFIG", extra.toString()), base()));
    assertEquals("cache.freshTtlMs", e.setting());
    ConfigException missing = assertThrows(ConfigException.class,
      () -> ConfigLoader.load(Map.of("BIOGATE_CONFIG", dir.resolve("nope.json").toString()), base()));
    assertEquals("BIOGATE_CONFIG", missing.setting());
  }

  @Test
  void linkJobSettingsAreKnownAndValidated() throws IOException {
    Path extra = dir.resolve("jobs.json");
    Files.writeString(extra, "{\"jobs\":{\"pollMs\":500,\"leaseMs\":30000}}");
    BiogateConfig c = ConfigLoader.load(Map.of("BIOGATE_CONFIG", extra.toString()), base());
    assertEquals(500, c.jobs().pollMs());
    assertEquals(30_000, c.jobs().leaseMs());
    Files.writeString(extra, "{\"jobs\":{\"polMs\":500}}");
    ConfigException typo = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of("BIOGATE_CONFIG", extra.toString()), base()));
    assertEquals("jobs.polMs", typo.setting());
    Files.writeString(extra, "{\"jobs\":{\"leaseMs\":1}}");
    ConfigException tooShort = assertThrows(ConfigException.class, () -> ConfigLoader.load(Map.of("BIOGATE_CONFIG", extra.toString()), base()));
    assertEquals("jobs.leaseMs", tooShort.setting());
  }

  @Test
  void badConfigurationExitsNonZeroWithOneLineNamingTheSetting() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("BIOGATE_HTTP_PORT", "99999");
    Process p = java(env);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "process exits promptly");
    String err = new String(p.getErrorStream().readAllBytes()).trim();
    assertEquals(2, p.exitValue());
    assertEquals(1, err.lines().count(), "one line: " + err);
    assertTrue(err.contains("BIOGATE_HTTP_PORT") && err.contains("65535"), err);
  }

  private Process java(Map<String, String> env) throws IOException {
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"), "dev.biogate.Main");
    pb.environment().keySet().removeIf(k -> k.startsWith("BIOGATE_") || k.startsWith("LINKTREE_") || k.equals("REDIS_URL"));
    pb.environment().putAll(env);
    pb.directory(dir.toFile());
    return pb.start();
  }
}
