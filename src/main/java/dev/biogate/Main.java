package dev.biogate;

import dev.biogate.config.BiogateConfig;
import dev.biogate.config.ConfigException;
import dev.biogate.config.ConfigLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Command line: {@code java -jar biogate.jar [serve|sandbox|preflight|webhooks ...]}. Invalid configuration prints one line naming the
 * setting and exits with status 2; a failed start exits with status 1.
 */
public final class Main {

  static {
    // Vert.x switches for a JSON API that never serves WebSockets: every header value the gateway writes is a
    // constant or validated before use (usernames, ETags, sanitised URLs), so per-write validation is redundant;
    // immutable response header names and common request headers are cached/interned.
    defaultProperty("vertx.disableWebsockets", "true");
    defaultProperty("vertx.disableContextTimings", "true");
    defaultProperty("vertx.disableHttpHeadersValidation", "true");
    defaultProperty("vertx.cacheImmutableHttpResponseHeaders", "true");
    defaultProperty("vertx.internCommonHttpRequestHeadersToLowerCase", "true");
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
    String command = args.length == 0 ? "serve" : args[0];
    BiogateConfig config;
    try {
      config = ConfigLoader.load();
    } catch (ConfigException e) {
      System.err.println("biogate: invalid configuration: " + e.getMessage());
      System.exit(2);
      return;
    }
    try {
      switch (command) {
        case "serve":
          Launcher.serve(config);
          break;
        case "sandbox":
          Launcher.sandbox(config);
          break;
        case "webhooks":
          System.exit(Launcher.webhooks(config, java.util.Arrays.asList(args).subList(1, args.length)));
          return;
        case "preflight":
          System.exit(Launcher.preflight(config) == 0 ? 0 : 1);
          return;
        case "-h":
        case "--help":
        case "help":
          System.out.println("usage: java -jar biogate.jar [serve|sandbox|preflight|webhooks list|register|delete|enable]");
          return;
        default:
          System.err.println("biogate: unknown command '" + command + "' (expected serve, sandbox, preflight or webhooks)");
          System.exit(2);
      }
    } catch (ConfigException e) {
      System.err.println("biogate: invalid configuration: " + e.getMessage());
      System.exit(2);
    } catch (Exception e) {
      LOG.error("biogate failed to start: {}", e.getMessage());
      System.err.println("biogate: failed to start: " + e.getMessage());
      System.exit(1);
    }
  }
}
