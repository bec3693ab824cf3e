package dev.biogate.redis;

import dev.biogate.config.BiogateConfig;
import dev.biogate.config.RedisConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Whether the configured endpoints are what the configured type says they are, from {@code INFO server}'s
 * {@code redis_mode} ({@code standalone}, {@code cluster} or {@code sentinel}). A mismatch can never work (a
 * standalone server named as a Cluster answers every call "cluster support disabled"), so it is a setting to fix, not
 * an outage to serve through. Endpoints that do not answer, or refuse {@code INFO}, tell nothing.
 */
public final class RedisMode {

  private RedisMode() {
  }

  /**
   * Completes with the first mismatch found, worded for an operator (the endpoint without credentials, what it is,
   * what to set), or {@code null} when none of the endpoints that answered contradicts the configuration. Never fails.
   */
  public static Future<String> mismatch(Vertx vertx, RedisConfig config) {
    return first(config.endpoints(), endpoint -> probe(vertx, config, endpoint)
      .map(p -> problem(config.type(), redacted(endpoint), p.mode())));
  }

  /**
   * Completes with the first data node that refuses the configured credentials ({@code WRONGPASS}, or
   * {@code NOAUTH}: none configured where one is required), worded for an operator, or {@code null}. Such a start
   * used to go through and stay degraded for good, with /health calling Redis "unreachable". Under Sentinel the data
   * node is the master the Sentinels name, asked with the credentials the data connections use. Never fails.
   */
  public static Future<String> refusedCredentials(Vertx vertx, RedisConfig config) {
    return dataNodes(vertx, config).compose(nodes -> nodes.refusal() != null ? Future.succeededFuture(nodes.refusal())
      : first(nodes.endpoints(), endpoint -> probe(vertx, config, endpoint).map(p -> p.refusal() == null ? null
        : refused(endpoint, config.type() == RedisConfig.Type.SENTINEL ? " (the master the Sentinels name)" : "",
          p.refusal()))));
  }

  /** An operator's sentence for {@code endpoint} ({@code what} it is) refusing the credentials with {@code refusal}. */
  private static String refused(String endpoint, String what, String refusal) {
    return redacted(endpoint) + what + (refusal.startsWith("NOAUTH")
      ? " requires a password and none is configured: give it in the URL (redis://:password@host:port) or in"
        + " REDIS_PASSWORD"
      : " refused the configured credentials (" + refusal + "): check the password in the URL or in REDIS_PASSWORD");
  }

  /**
   * The data nodes and, under Sentinel, a Sentinel's refusal of the credentials when none answered: the configured
   * endpoints, or the master the first answering Sentinel names, as each Sentinel endpoint's URL with the master's
   * address (its user information kept: the Sentinel client connects to the master with it, and with the same
   * password as to the Sentinels). No Sentinel answering (or none knowing the master) means none. Never fails.
   */
  private record DataNodes(List<String> endpoints, String refusal) {
  }

  private static Future<DataNodes> dataNodes(Vertx vertx, RedisConfig config) {
    if (config.type() != RedisConfig.Type.SENTINEL) {
      return Future.succeededFuture(new DataNodes(config.endpoints(), null));
    }
    List<Future<String>> masters = new ArrayList<>();
    List<String> refusals = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (String endpoint : config.endpoints()) {
      Redis sentinel = Redis.createClient(vertx, SentinelGroup.clientOptions(endpoint, config)
        .setMaxPoolSize(1).setPoolName(UUID.randomUUID().toString()));
      masters.add(sentinel.send(Request.cmd(Command.SENTINEL).arg("GET-MASTER-ADDR-BY-NAME").arg(config.masterName()))
        .timeout(config.commandTimeoutMs(), TimeUnit.MILLISECONDS)
        .map(r -> r == null || r.size() < 2 ? null : atAddress(endpoint, r.get(0).toString(), r.get(1).toInteger()))
        .otherwise(err -> {
          String refusal = refusal(err);
          if (refusal != null) {
            refusals.add(refused(endpoint, " (a Sentinel)", refusal)
              + " (the same password goes to the Sentinels and to the master)");
          }
          return null;
        })
        .eventually(() -> {
          sentinel.close();
          return Future.succeededFuture();
        }));
    }
    return Future.join(masters).transform(done -> {
      for (Future<String> m : masters) {
        if (m.succeeded() && m.result() != null) {
          return Future.succeededFuture(new DataNodes(List.of(m.result()), null));
        }
      }
      return Future.succeededFuture(new DataNodes(List.of(), refusals.isEmpty() ? null : refusals.get(0)));
    });
  }

  /** {@code endpoint} (a Redis URL) with {@code host:port} in place of its own address. */
  static String atAddress(String endpoint, String host, int port) {
    java.util.regex.Matcher m = ADDRESS.matcher(endpoint);
    String address = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    return m.matches() ? m.group(1) + address + m.group(3) : "redis://" + address;
  }

  /** A Redis URL as scheme and user information (group 1), address (group 2), and path and query (group 3). */
  private static final java.util.regex.Pattern ADDRESS =
    java.util.regex.Pattern.compile("^([a-z]+://(?:[^@/]*@)?)([^/?]*)(.*)$");

  /**
   * Completes with the first data node that answers without any credentials although a password is configured (for
   * the default user: an ACL user of its own may hold other rights), worded for an operator, or {@code null}. The
   * server takes the password silently, so such a start went through without a word, though a password nobody asks
   * for can mean the gateway is pointed at another, unprotected server. Never fails.
   */
  public static Future<String> unneededPassword(Vertx vertx, RedisConfig config) {
    return dataNodes(vertx, config).compose(nodes -> first(nodes.endpoints(), endpoint -> {
      String user = user(endpoint);
      if (!configuresPassword(config, endpoint) || (user != null && !user.isEmpty() && !"default".equals(user))) {
        return Future.succeededFuture(null);
      }
      RedisOptions o = new RedisOptions(RedisClients.options(config)).setType(RedisClientType.STANDALONE)
        .setEndpoints(List.of(withoutUserInfo(endpoint))).setPassword(null).setUser(null).setMaxPoolSize(1)
        .setPoolName(UUID.randomUUID().toString());
      Redis bare = Redis.createClient(vertx, o);
      return bare.send(Request.cmd(Command.PING))
        .timeout(config.commandTimeoutMs(), TimeUnit.MILLISECONDS)
        .map(r -> redacted(endpoint)
          + (config.type() == RedisConfig.Type.SENTINEL ? " (the master the Sentinels name)" : "")
          + " answers without a password, so the configured one is not used: check that"
          + " the Redis URL names the intended server (or set requirepass there)")
        .otherwise((String) null)
        .eventually(() -> {
          bare.close();
          return Future.succeededFuture();
        });
    }));
  }

  /** Whether a password is configured for {@code endpoint}: its own setting, or the URL's user information. */
  private static boolean configuresPassword(RedisConfig config, String endpoint) {
    return config.password() != null || urlCarriesPassword(endpoint);
  }

  /**
   * The setting the Redis password comes from, as {@code config} names it: the URL (or endpoints) when they carry one,
   * since the client sends a URL's password before its own setting's, else its own setting.
   */
  public static String passwordSetting(BiogateConfig config) {
    boolean inUrls = config.redis().endpoints().stream().anyMatch(RedisMode::urlCarriesPassword);
    return config.settingName(inUrls || config.redis().password() == null ? urlsPath(config) : "redis.password");
  }

  /** The JSON path the Redis URLs come from: {@code redis.url} when set, else {@code redis.endpoints}. */
  private static String urlsPath(BiogateConfig config) {
    return config.source().getJsonObject("redis", new io.vertx.core.json.JsonObject()).getValue("url") != null
      ? "redis.url" : "redis.endpoints";
  }

  /**
   * Whether the Redis URL {@code endpoint} carries a password ({@code redis://[user]:password@host}), which the client
   * sends before the password setting's; user information without a colon names a user only.
   */
  public static boolean urlCarriesPassword(String endpoint) {
    java.util.regex.Matcher m = USER_INFO.matcher(endpoint);
    return m.find() && m.group(2).indexOf(':') >= 0 && m.group(2).indexOf(':') < m.group(2).length() - 1;
  }

  /** The user named in {@code endpoint}'s user information ({@code redis://user:pass@host}), or {@code null}. */
  private static String user(String endpoint) {
    java.util.regex.Matcher m = USER_INFO.matcher(endpoint);
    if (!m.find()) {
      return null;
    }
    int colon = m.group(2).indexOf(':');
    return colon < 0 ? null : m.group(2).substring(0, colon);
  }

  private static String withoutUserInfo(String endpoint) {
    return USER_INFO.matcher(endpoint).replaceFirst("$1");
  }

  /** A Redis URL's scheme (group 1) and user information (group 2: {@code [user]:password} or {@code password}). */
  private static final java.util.regex.Pattern USER_INFO = java.util.regex.Pattern.compile("^([a-z]+://)([^@/]*)@");

  /** The first non-null answer of {@code ask} over the endpoints, or {@code null}; never fails. */
  private static Future<String> first(List<String> endpoints, java.util.function.Function<String, Future<String>> ask) {
    List<Future<String>> answers = new ArrayList<>();
    for (String endpoint : endpoints) {
      answers.add(ask.apply(endpoint));
    }
    return Future.join(answers).transform(done -> {
      for (Future<String> a : answers) {
        if (a.succeeded() && a.result() != null) {
          return Future.succeededFuture(a.result());
        }
      }
      return Future.succeededFuture(null);
    });
  }

  /**
   * What one endpoint said: its {@code redis_mode} ({@code null} when it did not say), how it refused us, and whether
   * it has no database of the number configured.
   */
  private record Probe(String mode, String refusal, boolean noSuchDatabase) {
  }

  /**
   * Completes with the first data node that has no database of the number the URLs name ({@code ERR DB index is out of
   * range} when the client selects it), worded for an operator, or {@code null}. Such a start went through and stayed
   * degraded for good (every stream, the budget and every fetch failing) while /health called Redis healthy (its probe
   * does not select the database). Never fails.
   */
  public static Future<String> missingDatabase(Vertx vertx, RedisConfig config) {
    return dataNodes(vertx, config).compose(nodes -> first(nodes.endpoints(), endpoint -> probe(vertx, config, endpoint)
      .map(p -> !p.noSuchDatabase() ? null : redacted(endpoint) + " has no database " + config.database()
        + " (ERR DB index is out of range): name a database the server has (its 'databases' setting, 16 by default,"
        + " numbers them from 0)")));
  }

  /** The setting that names the database: the URL setting the endpoints come from. */
  public static String databaseSetting(BiogateConfig config) {
    return config.settingName(urlsPath(config));
  }

  private static Future<Probe> probe(Vertx vertx, RedisConfig config, String endpoint) {
    RedisOptions o = new RedisOptions(RedisClients.options(config)).setType(RedisClientType.STANDALONE)
      .setEndpoints(List.of(endpoint)).setMaxPoolSize(1).setPoolName(UUID.randomUUID().toString());
    Redis once = Redis.createClient(vertx, o);
    return once.send(Request.cmd(Command.INFO).arg("server"))
      .timeout(config.commandTimeoutMs(), TimeUnit.MILLISECONDS)
      .map(r -> new Probe(r == null ? null : field(r.toString(), "redis_mode"), null, false))
      .otherwise(err -> new Probe(null, refusal(err), noSuchDatabase(err)))
      .eventually(() -> {
        once.close();
        return Future.succeededFuture();
      });
  }

  /** The server's first words when it refused the credentials ({@code WRONGPASS ...}, {@code NOAUTH ...}), else null. */
  private static String refusal(Throwable err) {
    for (Throwable c = err; c != null; c = c.getCause()) {
      String m = String.valueOf(c.getMessage());
      if (m.startsWith("WRONGPASS") || m.startsWith("NOAUTH")) {
        int cut = m.indexOf('.');
        return (cut > 0 ? m.substring(0, cut) : m).trim();
      }
    }
    return null;
  }

  /** Whether the client's {@code SELECT} of the configured database was refused: the server has no such database. */
  private static boolean noSuchDatabase(Throwable err) {
    for (Throwable c = err; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (String.valueOf(c.getMessage()).contains("DB index is out of range")) {
        return true;
      }
    }
    return false;
  }

  /** One {@code name:value} line of an {@code INFO} answer, or {@code null}. */
  public static String field(String info, String name) {
    for (String line : info.split("\r?\n")) {
      if (line.startsWith(name + ":")) {
        return line.substring(name.length() + 1).trim();
      }
    }
    return null;
  }

  /** A count a server reports ({@code connected_slaves}, a Sentinel's {@code num-slaves}): 0 when absent or unreadable. */
  static int count(String value) {
    try {
      return value == null ? 0 : Math.max(0, Integer.parseInt(value.trim()));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** What is wrong with naming a server of {@code mode} as {@code type}, or {@code null} when nothing is. */
  static String problem(RedisConfig.Type type, String endpoint, String mode) {
    if (mode == null || mode.equalsIgnoreCase(type.name())) {
      return null;
    }
    String is;
    switch (mode) {
      case "standalone":
        is = "is a standalone Redis server (cluster support disabled)";
        break;
      case "cluster":
        is = "is a Redis Cluster node";
        break;
      case "sentinel":
        is = "is a Sentinel";
        break;
      default:
        return null;
    }
    String fix;
    switch (type) {
      case CLUSTER:
        fix = "not a Cluster node: list the Cluster's nodes, or set the type to " + mode;
        break;
      case SENTINEL:
        fix = "not a Sentinel: list the Sentinels (port 26379 by default), or set the type to " + mode;
        break;
      default:
        fix = "not a standalone server: set the type to " + mode
          + ("sentinel".equals(mode) ? " with the master's name" : " and list its nodes");
    }
    return endpoint + " " + is + ", " + fix;
  }

  private static String redacted(String endpoint) {
    return endpoint.replaceAll("^[a-z]+://([^@/]*@)?", "");
  }
}
