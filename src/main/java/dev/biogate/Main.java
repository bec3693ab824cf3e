package dev.biogate;

import dev.biogate.config.BiogateConfig;
import dev.biogate.config.ConfigException;
import dev.biogate.config.ConfigLoader;
import dev.biogate.ops.BuildInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * Command line: {@code java -jar biogate.jar [serve|sandbox|preflight|webhooks ...|--version]}. Invalid configuration prints one line naming the
 * setting and exits with status 2; a failed start exits with status 1.
 */
public final class Main {

  /**
   * Vert.x switches for a JSON API that never serves WebSockets: every header value the gateway writes is a constant
   * or validated before use (usernames, ETags, sanitised URLs), and every request header and trailer field is checked
   * by {@code StrictHttpDecoder}, so Netty's own validation is redundant; immutable response header names and common
   * request headers are cached/interned. The tests run with the same values (the surefire configuration in
   * {@code pom.xml}; {@code JvmDefaultsTest} holds the two lists together): without Netty's validation, trailer
   * fields the tests saw refused were accepted by the real gateway.
   */
  static final Map<String, String> JVM_DEFAULTS = Map.of(
    "vertx.disableWebsockets", "true",
    "vertx.disableContextTimings", "true",
    "vertx.disableHttpHeadersValidation", "true",
    "vertx.cacheImmutableHttpResponseHeaders", "true",
    "vertx.internCommonHttpRequestHeadersToLowerCase", "true",
    // A TLS 1.2 client may not make the server repeat full handshakes on one connection (271 in 10 s in an attack).
    "jdk.tls.rejectClientInitiatedRenegotiation", "true");

  static {
    JVM_DEFAULTS.forEach(Main::defaultProperty);
  }

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private static void defaultProperty(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }

  private Main() {
  }

  public static void main(String[] args) {
    int status = run(args, System.getenv(), System.out, System.err);
    if (status != RUNNING) {
      System.exit(status);
    }
  }

  /** Preflight's optional {@code LINKTREE_WEBHOOK_URL}: an absolute http(s) URL, or a configuration error naming it. */
  static String webhookUrl(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    String url = value.trim();
    try {
      java.net.URI uri = new java.net.URI(url);
      if (("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme())) && uri.getHost() != null) {
        return url;
      }
    } catch (java.net.URISyntaxException e) {
      // reported below
    }
    throw new ConfigException("LINKTREE_WEBHOOK_URL", "'" + url + "' is not an absolute http:// or https:// URL "
      + "(the public address of /webhooks/linktree, e.g. https://gateway.example.com/webhooks/linktree)");
  }

  /** What {@link #run} returns when the gateway or the sandbox is up and serving (the process keeps running). */
  static final int RUNNING = -1;

  /**
   * Runs one command and returns its exit status: 0 done, 1 failed (or preflight found problems), 2 invalid
   * configuration or usage, {@link #RUNNING} when a server was started.
   */
  static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    String command = args.length == 0 ? "serve" : args[0];
    switch (command) {
      case "-h":
      case "--help":
      case "help":
        out.println("usage: java -jar biogate.jar [serve|sandbox|preflight|webhooks list|register|delete|enable|--version]");
        return 0;
      case "-v":
      case "--version":
      case "version":
        out.println("biogate " + BuildInfo.version());
        return 0;
      case "serve":
      case "sandbox":
      case "preflight":
        if (args.length > 1) {
          err.println("biogate: '" + command + "' takes no arguments (got '" + args[1] + "')");
          return 2;
        }
        break;
      case "webhooks":
        break;
      default:
        err.println("biogate: unknown command '" + command + "' (expected serve, sandbox, preflight, webhooks or --version)");
        return 2;
    }
    try {
      BiogateConfig config = ConfigLoader.load(env, Path.of("conf", "biogate.json"));
      switch (command) {
        case "serve":
          Launcher.serve(config);
          return RUNNING;
        case "sandbox":
          Launcher.sandbox(config);
          return RUNNING;
        case "webhooks":
          return Launcher.webhooks(config, java.util.Arrays.asList(args).subList(1, args.length), out, err);
        default:
          return Launcher.preflight(config, webhookUrl(env.get("LINKTREE_WEBHOOK_URL"))) == 0 ? 0 : 1;
      }
    } catch (ConfigException e) {
      err.println("biogate: invalid configuration: " + e.getMessage());
      return 2;
    } catch (Exception e) {
      LOG.error("biogate failed to start: {}", e.getMessage());
      err.println("biogate: failed to start: " + e.getMessage());
      return 1;
    }
  }
}
