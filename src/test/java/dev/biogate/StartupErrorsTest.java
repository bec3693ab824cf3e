package dev.biogate;

import dev.biogate.config.ConfigLoader;
import dev.biogate.redis.EmbeddedRedis;
import dev.biogate.support.LogCapture;
import dev.biogate.support.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every setting that cannot work stops start-up with exit status 2 and one line naming the setting, before anything
 * listens: what an operator with a typo or a busy port sees.
 */
class StartupErrorsTest {

  @TempDir
  Path dir;

  /**
   * The Redis of the starts that get as far as Redis: one of this class's own. The shared test Redis holds what the
   * tests before left (a shard count recorded by a gateway on one shard would stop these starts on that instead).
   */
  private static EmbeddedRedis redis;

  private static synchronized String redisUrl() {
    if (redis == null) {
      redis = TestRedis.dedicated();
    }
    return redis.url();
  }

  @AfterAll
  static void closeRedis() throws Exception {
    if (redis != null) {
      redis.close();
    }
  }

  private record Outcome(int status, String out, String err) {
  }

  private Outcome run(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private void assertConfigError(Outcome o, String... names) {
    assertEquals(2, o.status(), o.err());
    String[] lines = o.err().strip().split("\n");
    assertEquals(1, lines.length, "one line: " + o.err());
    for (String name : names) {
      assertTrue(lines[0].contains(name), lines[0] + " names " + name);
    }
  }

  /** A newcomer's typo after a command ran the command and ignored it: {@code preflight --bogus} ran the checklist. */
  @Test
  void argumentsACommandDoesNotTakeAreAUsageError() {
    for (String command : new String[] {"preflight", "serve", "sandbox"}) {
      Outcome o = run(Map.of(), command, "--bogus");
      assertEquals(2, o.status(), command + ": " + o.err());
      assertEquals("biogate: '" + command + "' takes no arguments (got '--bogus')", o.err().strip());
    }
  }

  @Test
  void redisUrlWithANonNumericDatabaseNamesRedisUrl() {
    Outcome o = run(Map.of("REDIS_URL", "redis://h:1/abc"));
    assertConfigError(o, "REDIS_URL");
    assertTrue(o.err().contains("database"), o.err());
  }

  @Test
  void redisUrlWithANonNumericPortNamesRedisUrlWithoutRepeatingCredentials() {
    Outcome o = run(Map.of("REDIS_URL", "redis://user:hunter2@h:port/0"));
    assertConfigError(o, "REDIS_URL");
    assertTrue(!o.err().contains("hunter2"), o.err());
  }

  /**
   * README: "each variable above sets the JSON path beside it, and the gateway's messages name both". A newcomer found
   * most messages about a variable named the variable alone ({@code BIOGATE_HTTP_PORT: must be a whole number ...}).
   */
  @Test
  void aBadVariableIsNamedWithTheJsonPathItSets() {
    assertConfigError(run(Map.of("BIOGATE_HTTP_PORT", "abc")), "BIOGATE_HTTP_PORT (http.port): must be");
    assertConfigError(run(Map.of("LINKTREE_RATE_LIMIT_PER_MIN", "abc")), "LINKTREE_RATE_LIMIT_PER_MIN (linktree.rateLimitPerMin)");
  }

  /**
   * A dotted key in the file is named as the file writes it, also when the variable for the same path is set: a
   * newcomer's {@code {"http.port":8081}} with {@code BIOGATE_HTTP_PORT} set was reported as a fault of the variable.
   */
  @Test
  void aDottedKeyInTheFileIsNamedAsTheFileWritesItWhenItsVariableIsSetToo() throws IOException {
    Path file = dir.resolve("biogate.json");
    Files.writeString(file, "{\"http.port\":8081}");
    Outcome o = run(Map.of("BIOGATE_CONFIG", file.toString(), "BIOGATE_HTTP_PORT", "0"));
    assertConfigError(o, "http.port: a key with dots");
    assertTrue(!o.err().contains("BIOGATE_HTTP_PORT"), o.err());
  }

  @Test
  void unknownKeyInTheConfigFileNamesItsPath() throws IOException {
    Path file = dir.resolve("biogate.json");
    Files.writeString(file, "{\"cache\":{\"freshTTLms\":1000}}");
    assertConfigError(run(Map.of("BIOGATE_CONFIG", file.toString())), "cache.freshTTLms");
  }

  /**
   * A dotted key is not a path. Found by a newcomer: {@code {"http.port": 19507}}, written as the README's tables
   * write settings, started without a word and listened on 8080 (the unknown-key check read the dotted key as a path,
   * the settings did not), while a misspelled dotted key was refused.
   */
  @Test
  void aDottedKeyIsRefusedAndTheMessageShowsTheNestedForm() throws IOException {
    Path file = dir.resolve("biogate.json");
    Files.writeString(file, "{\"http.port\":19507}");
    Outcome o = run(Map.of("BIOGATE_CONFIG", file.toString()));
    assertConfigError(o, "http.port");
    assertTrue(o.err().contains("{\"http\":{\"port\":"), o.err());
    Files.writeString(file, "{\"destinations\":{\"retry.maxMs\":5}}");
    assertConfigError(run(Map.of("BIOGATE_CONFIG", file.toString())), "destinations.retry.maxMs");
  }

  @Test
  void unknownSectionInTheConfigFileNamesIt() throws IOException {
    Path file = dir.resolve("biogate.json");
    Files.writeString(file, "{\"linktre\":{\"rateLimitPerMin\":50}}");
    assertConfigError(run(Map.of("BIOGATE_CONFIG", file.toString())), "linktre");
  }

  @Test
  void aRedisPoolTooSmallForItsSharedConnectionsNamesThePoolSize() throws IOException {
    Path file = dir.resolve("biogate.json");
    Files.writeString(file, "{\"redis\":{\"poolSize\":2}}");
    assertConfigError(run(Map.of("BIOGATE_CONFIG", file.toString())), "redis.poolSize");
  }

  @Test
  void destinationsAndLinkmeSectionsAreValidatedLikeTheRest() throws IOException {
    Path file = dir.resolve("biogate.json");
    Files.writeString(file, "{\"linkme\":{\"apps\":{\"app1\":\"alice\"}},\"destinations\":{\"maxAttempts\":3,\"retryBaseMS\":10}}");
    assertConfigError(run(Map.of("BIOGATE_CONFIG", file.toString())), "destinations.retryBaseMS");
  }

  @Test
  void upstreamBaseWithoutTokenNamesBoth() {
    assertConfigError(run(Map.of("LINKTREE_API_BASE", "https://api.linktr.ee/v1")), "LINKTREE_API_TOKEN", "LINKTREE_API_BASE");
  }

  /**
   * An enabled Klaviyo sink without a key, where no sandbox plays Klaviyo (an upstream is configured), can never send:
   * it used to start with an ERROR line and the sink off.
   */
  @Test
  void anEnabledKlaviyoSinkWithoutAKeyNamesBoth() {
    assertConfigError(run(Map.of("LINKTREE_API_BASE", "https://api.linktr.ee/v1", "LINKTREE_API_TOKEN", "lt_token_value",
      "KLAVIYO_ENABLED", "true")), "KLAVIYO_PRIVATE_KEY", "KLAVIYO_ENABLED");
  }

  @Test
  void budgetAboveLinktreesLimitNamesTheBudget() {
    assertConfigError(run(Map.of("LINKTREE_API_BASE", "https://api.linktr.ee/v1", "LINKTREE_API_TOKEN", "lt_token_value",
      "LINKTREE_RATE_LIMIT_PER_MIN", "150")), "LINKTREE_RATE_LIMIT_PER_MIN", "100");
  }

  @Test
  void budgetAboveLinktreesLimitIsRefusedForTheSandboxToo() {
    assertConfigError(run(Map.of("LINKTREE_RATE_LIMIT_PER_MIN", "101")), "LINKTREE_RATE_LIMIT_PER_MIN");
  }

  @Test
  void tlsCertificateWithoutKeyNamesTheKey() throws IOException {
    Path cert = Files.writeString(dir.resolve("cert.pem"), "not used");
    assertConfigError(run(Map.of("BIOGATE_TLS_CERT_FILE", cert.toString())), "BIOGATE_TLS_KEY_FILE", "BIOGATE_TLS_CERT_FILE");
  }

  /** A file that is not PEM used to fail once the listeners started, with exit 1 and the TLS library's words only. */
  @Test
  void tlsFilesThatAreNotPemNameTheirSetting() throws IOException {
    Path junk = Files.writeString(dir.resolve("junk.pem"), "{\"not\": \"pem\"}");
    Path cert = Files.writeString(dir.resolve("cert.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    Path key = Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
    assertConfigError(run(Map.of("BIOGATE_TLS_CERT_FILE", junk.toString(), "BIOGATE_TLS_KEY_FILE", key.toString())),
      "BIOGATE_TLS_CERT_FILE");
    assertConfigError(run(Map.of("BIOGATE_TLS_CERT_FILE", cert.toString(), "BIOGATE_TLS_KEY_FILE", junk.toString())),
      "BIOGATE_TLS_KEY_FILE");
    // A certificate given as the key (or the reverse) is caught as well.
    assertConfigError(run(Map.of("BIOGATE_TLS_CERT_FILE", cert.toString(), "BIOGATE_TLS_KEY_FILE", cert.toString())),
      "BIOGATE_TLS_KEY_FILE");
  }

  @Test
  void aRedisPortOutOfRangeNamesRedisUrl() {
    assertConfigError(run(Map.of("REDIS_URL", "redis://127.0.0.1:99999")), "REDIS_URL");
  }

  @Test
  void unreadableSecretFileNamesTheFileVariable() {
    assertConfigError(run(Map.of("BIOGATE_ADMIN_TOKEN_FILE", dir.resolve("missing").toString())), "BIOGATE_ADMIN_TOKEN_FILE");
  }

  @Test
  void unwritableJournalNamesTheJournalSetting() throws IOException {
    Path notADirectory = Files.writeString(dir.resolve("file"), "x");
    Outcome o = run(Map.of("BIOGATE_CLICK_JOURNAL", notADirectory.resolve("clicks.journal").toString()));
    assertConfigError(o, "BIOGATE_CLICK_JOURNAL");
  }

  @Test
  void portInUseNamesThePortSetting() throws IOException {
    assertBusyPortNamed("BIOGATE_HTTP_PORT", Map.of());
  }

  /** The management listener's port in use is named as such (it used to be reported as BIOGATE_HTTP_PORT). */
  @Test
  void managementPortInUseNamesTheManagementPortSetting() throws IOException {
    assertBusyPortNamed("BIOGATE_MANAGEMENT_PORT", Map.of("BIOGATE_HTTP_PORT", "0"));
  }

  /**
   * Serving with the port setting {@code setting} on a port another socket holds stops start-up naming it, and the
   * connections it closes on the way out log nothing (they once logged a WARN per event loop: "not replaced yet").
   */
  private void assertBusyPortNamed(String setting, Map<String, String> extra) throws IOException {
    // Launcher's own warnings are the risky-settings notices every zero-secret start prints.
    try (LogCapture warnings = LogCapture.root(e -> LogCapture.warnOrAbove(e) && !e.getLoggerName().equals(Launcher.class.getName())
           ? e.getLoggerName() + ": " + e.getFormattedMessage() : null);
         ServerSocket busy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Map<String, String> env = new HashMap<>(extra);
      env.put(setting, Integer.toString(busy.getLocalPort()));
      env.put("BIOGATE_HTTP_INSTANCES", "1");
      env.put("REDIS_URL", redisUrl());
      env.put("LINKTREE_API_BASE", "http://127.0.0.1:9");
      env.put("LINKTREE_API_TOKEN", "lt_token_value");
      env.put("BIOGATE_CLICK_JOURNAL", dir.resolve("clicks.journal").toString());
      assertConfigError(run(env, "serve"), setting, "in use");
      assertEquals(java.util.List.of(), warnings.lines(), "warnings while refusing to start");
    }
  }

  /** It once exited 1 with the resolver's "Failed to resolve '999.1.1.1'", naming no setting. */
  @Test
  void aHostThatIsNotAnAddressNamesTheHostSetting() {
    assertConfigError(run(Map.of("BIOGATE_HTTP_HOST", "999.1.1.1")), "BIOGATE_HTTP_HOST", "999.1.1.1");
    assertConfigError(run(Map.of("BIOGATE_MANAGEMENT_HOST", "10.0.0")), "BIOGATE_MANAGEMENT_HOST", "10.0.0");
  }

  /** A name that does not resolve is only known when the listener binds: still one line naming the setting. */
  @Test
  void aHostNameThatDoesNotResolveNamesTheHostSetting() {
    Map<String, String> env = new HashMap<>();
    env.put("BIOGATE_HTTP_HOST", "no-such-host.invalid");
    env.put("BIOGATE_HTTP_PORT", "0");
    env.put("BIOGATE_MANAGEMENT_PORT", "0");
    env.put("BIOGATE_HTTP_INSTANCES", "1");
    env.put("REDIS_URL", redisUrl());
    env.put("LINKTREE_API_BASE", "http://127.0.0.1:9");
    env.put("LINKTREE_API_TOKEN", "lt_token_value");
    env.put("BIOGATE_CLICK_JOURNAL", dir.resolve("clicks.journal").toString());
    assertConfigError(run(env, "serve"), "BIOGATE_HTTP_HOST", "no-such-host.invalid");
  }

  /** It once printed half the checklist, then "java.net.MalformedURLException: no protocol: notaurl" (exit 1). */
  @Test
  void preflightWithAWebhookUrlThatIsNotAUrlNamesTheVariable() {
    Outcome o = run(Map.of("LINKTREE_WEBHOOK_URL", "notaurl"), "preflight");
    assertConfigError(o, "LINKTREE_WEBHOOK_URL", "notaurl");
    assertTrue(!o.err().contains("Exception"), o.err());
    assertEquals("", o.out(), "nothing checked with an unusable setting");
  }

  @Test
  void unknownCommandIsAUsageError() {
    Outcome o = run(Map.of(), "servee");
    assertEquals(2, o.status());
    assertTrue(o.err().contains("servee"), o.err());
  }

  @Test
  void versionPrintsThePomVersion() throws IOException {
    Outcome o = run(Map.of(), "--version");
    assertEquals(0, o.status());
    String pom = Files.readString(Path.of("pom.xml"));
    int at = pom.indexOf("<version>", pom.indexOf("<artifactId>biogate</artifactId>"));
    String version = pom.substring(at + 9, pom.indexOf("</version>", at));
    assertEquals("biogate " + version, o.out().strip());
  }

  @Test
  void riskySettingsAreWarnedAboutByName() throws IOException {
    var config = ConfigLoader.load(Map.of("LINKTREE_RATE_LIMIT_PER_MIN", "95", "BIOGATE_HTTP_HOST", "0.0.0.0"),
      Path.of("conf", "biogate.json"));
    assertTrue(config.warnings().stream().anyMatch(w -> w.startsWith("LINKTREE_RATE_LIMIT_PER_MIN (linktree.rateLimitPerMin):")), config.warnings().toString());
    assertTrue(config.warnings().stream().anyMatch(w -> w.startsWith("BIOGATE_HTTP_HOST (http.host):")), config.warnings().toString());
    var quiet = ConfigLoader.load(Map.of("BIOGATE_CURSOR_SECRET", "0123456789abcdef0123"), Path.of("conf", "biogate.json"));
    assertEquals(java.util.List.of(), quiet.warnings());
  }

  /** Instances sharing a Redis are meant to serve the same clients: their cursors must verify everywhere. */
  @Test
  void aSharedRedisWithoutACursorSecretIsWarnedAboutAsSuch() {
    var shared = ConfigLoader.load(Map.of("REDIS_URL", "redis://127.0.0.1:6379"), Path.of("conf", "biogate.json"));
    assertTrue(shared.warnings().stream().anyMatch(w -> w.startsWith("BIOGATE_CURSOR_SECRET") && w.contains("shared Redis")
      && w.contains("rejected")), shared.warnings().toString());
    var set = ConfigLoader.load(Map.of("REDIS_URL", "redis://127.0.0.1:6379", "BIOGATE_CURSOR_SECRET", "0123456789abcdef0123"),
      Path.of("conf", "biogate.json"));
    assertTrue(set.warnings().stream().noneMatch(w -> w.contains("cursor")), set.warnings().toString());
  }

  @Test
  void plainHttpIsWarnedAboutOnlyOffLoopbackIpv6Included() throws IOException {
    for (String host : new String[] {"::1", "127.0.0.1", "localhost"}) {
      var config = ConfigLoader.load(Map.of("BIOGATE_CURSOR_SECRET", "0123456789abcdef0123", "BIOGATE_HTTP_HOST", host),
        Path.of("conf", "biogate.json"));
      assertEquals(java.util.List.of(), config.warnings(), host + " is loopback");
    }
    for (String host : new String[] {"::", "0.0.0.0", "2001:db8::1"}) {
      var config = ConfigLoader.load(Map.of("BIOGATE_CURSOR_SECRET", "0123456789abcdef0123", "BIOGATE_HTTP_HOST", host),
        Path.of("conf", "biogate.json"));
      assertTrue(config.warnings().stream().anyMatch(w -> w.startsWith("BIOGATE_HTTP_HOST (http.host):")), host + ": " + config.warnings());
    }
  }
}
