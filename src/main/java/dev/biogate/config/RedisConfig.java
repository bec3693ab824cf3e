package dev.biogate.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * How to reach Redis. Nothing configured means {@link #embedded()}: the gateway starts a private
 * {@code redis-server} on loopback. {@code REDIS_URL} selects a standalone server; Sentinel and Cluster are
 * configured in a config file ({@code type}, {@code endpoints}, {@code masterName}).
 *
 * @param endpoints server URLs; they may carry credentials, so {@link #toString()} and {@link #toJson()} redact them
 * @param commandTimeoutMs deadline of every Redis call, connecting included
 */
public record RedisConfig(Type type, List<String> endpoints, String masterName, int poolSize, int maxWaiting,
                          long commandTimeoutMs, Secret password) {

  public enum Type { STANDALONE, SENTINEL, CLUSTER }

  public static final int DEFAULT_POOL_SIZE = 16;
  public static final int DEFAULT_MAX_WAITING = 2048;
  /** Deadline of every Redis call, connecting included (see {@code redis.MultiplexedRedis}). */
  public static final long DEFAULT_COMMAND_TIMEOUT_MS = 2_000;

  public RedisConfig(JsonObject json) {
    this(Settings.of(json));
  }

  RedisConfig(Settings s) {
    this(type(s), endpoints(s), s.string("masterName", "mymaster"),
      // At least 4: shared connections take up to half, the cache-invalidation subscription one, and the ingest's
      // WAIT batches need the rest (with fewer they would wait for a connection until their deadline).
      s.intIn("poolSize", DEFAULT_POOL_SIZE, 4, 1024),
      s.intIn("maxWaiting", DEFAULT_MAX_WAITING, 1, 1_000_000),
      s.longIn("commandTimeoutMs", DEFAULT_COMMAND_TIMEOUT_MS, 10, 60_000),
      Secret.of(s.string("password", null)));
    if (type != Type.STANDALONE && endpoints.isEmpty()) {
      throw s.invalid("endpoints", "is required for redis type " + type.name().toLowerCase());
    }
    if (type == Type.STANDALONE && endpoints.size() > 1) {
      // They ran as a standalone server, one of them, silently: a forgotten type.
      throw s.invalid("endpoints", "names " + endpoints.size() + " servers, and a standalone Redis is one: set "
        + s.name("type") + " to cluster or sentinel, or name one server");
    }
  }

  private static Type type(Settings s) {
    String t = s.string("type", "standalone").toUpperCase();
    try {
      return Type.valueOf(t);
    } catch (IllegalArgumentException e) {
      throw s.invalid("type", "must be standalone, sentinel or cluster, got '" + t.toLowerCase() + "'");
    }
  }

  /** {@code url} (one standalone server) wins over {@code endpoints}; each is checked as the client will read it. */
  private static List<String> endpoints(Settings s) {
    String url = s.string("url", null);
    List<String> eps = s.list("endpoints");
    if (url != null && !eps.isEmpty() && !eps.equals(List.of(url))) {
      // The URL used to win silently: with Sentinels listed, the error then named the URL's server, not them.
      throw s.invalid("url", "is set together with " + s.name("endpoints") + ": set one of them (the endpoints for a"
        + " Sentinel group or a Cluster, " + s.name("type") + " saying which)");
    }
    if (url != null) {
      eps = List.of(url);
    }
    for (String ep : eps) {
      if (!ep.startsWith("redis://") && !ep.startsWith("rediss://") && !ep.startsWith("unix://")) {
        throw s.invalid(url != null ? "url" : "endpoints", "must be a redis:// or rediss:// URL");
      }
      s.redisEndpoint(url != null ? "url" : "endpoints", ep);
    }
    return List.copyOf(eps);
  }

  /**
   * The database the endpoints name ({@code redis://host:port/db}), 0 when none does; a Cluster has only database 0.
   */
  public int database() {
    if (type == Type.CLUSTER || endpoints.isEmpty()) {
      return 0;
    }
    String path = java.net.URI.create(endpoints.get(0)).getRawPath();
    return path == null || path.length() < 2 ? 0 : Integer.parseInt(path.substring(1));
  }

  /** True when no Redis is configured and the gateway must start its own. */
  public boolean embedded() {
    return endpoints.isEmpty();
  }

  /** A copy pointing at the given standalone URL (used once the embedded server is up). */
  public RedisConfig withUrl(String url) {
    JsonObject j = toJson();
    j.put("type", "standalone").put("url", url).remove("endpoints");
    if (password != null) {
      j.put("password", password.reveal());
    }
    return new RedisConfig(j);
  }

  /** JSON form; credentials in endpoint URLs and the password are redacted. */
  public JsonObject toJson() {
    JsonArray eps = new JsonArray();
    endpoints.forEach(e -> eps.add(e.replaceAll("//[^@/]*@", "//****@")));
    return new JsonObject().put("type", type.name().toLowerCase()).put("endpoints", eps)
      .put("masterName", masterName).put("poolSize", poolSize).put("maxWaiting", maxWaiting)
      .put("commandTimeoutMs", commandTimeoutMs);
  }

  /** The redacted JSON form: endpoint URLs may carry credentials. */
  @Override
  public String toString() {
    return "RedisConfig" + toJson().encode();
  }
}
