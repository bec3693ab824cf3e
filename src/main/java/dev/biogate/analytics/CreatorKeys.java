package dev.biogate.analytics;

import dev.biogate.crypto.Sha256;
import dev.biogate.http.ApiException;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.ReplicaWatch;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;

/**
 * Per-creator API keys for the analytics API. A key is {@code bgk_<key id>_<secret>}: a 16-hex-digit id (shown in
 * listings, used to revoke) and 256 random bits. Only the key's SHA-256 is stored (a fast hash is enough for a
 * high-entropy secret: nothing to brute-force), in an index that maps it to its creator, so a presented key is
 * resolved with one {@code HGET} and never compared to stored keys one by one. Keys are never logged.
 */
public final class CreatorKeys {

  /** A newly issued key; {@link #key()} is shown to the operator once and not kept. */
  public record Issued(String keyId, String key, long createdAtMs) {
  }

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String PREFIX = "bgk_";
  private static final int MAX_KEY_LENGTH = 128;

  static final ApiException NOT_REPLICATED = ApiException.notReplicated("the change");

  private final Redis redis;
  private final ReplicaWatch replicas;
  private final int master;
  private final long replicaWaitMs;
  private final LuaScript issue = LuaScript.load("creator_key_issue");
  private final LuaScript revoke = LuaScript.load("creator_key_revoke");

  /**
   * {@code replicas} watches the master of the keys' slot ({@link RedisKeys#CREATOR_KEY_INDEX}): where it has a
   * replica, an issued or revoked key is acknowledged only once the replica holds the change (up to
   * {@code replicaWaitMs}), so a failover cannot lose a key handed out or bring back a revoked one.
   */
  public CreatorKeys(Redis redis, ReplicaWatch replicas, long replicaWaitMs) {
    this.redis = redis;
    this.replicas = replicas;
    this.master = replicas.indexOf(RedisKeys.CREATOR_KEY_INDEX);
    this.replicaWaitMs = replicaWaitMs;
  }

  /** Runs a key-changing script, waiting for a replica where there is one; 503 {@code not_replicated} without it. */
  private Future<Response> durably(LuaScript script, List<String> keys, List<String> args) {
    return replicas.durably(master, redis, script, keys, args, replicaWaitMs, NOT_REPLICATED);
  }

  public Future<Issued> issue(String username, long nowMs) {
    byte[] id = new byte[8];
    byte[] secret = new byte[32];
    RANDOM.nextBytes(id);
    RANDOM.nextBytes(secret);
    String keyId = HexFormat.of().formatHex(id);
    String key = PREFIX + keyId + "_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    return durably(issue, List.of(RedisKeys.CREATOR_KEY_INDEX, RedisKeys.creatorKeys(username)),
        List.of(sha256(key), username, keyId, Long.toString(nowMs)))
      .compose(r -> r.toInteger() == 1 ? Future.succeededFuture(new Issued(keyId, key, nowMs)) : issue(username, nowMs));
  }

  /** True when the creator had this key (it no longer works). */
  public Future<Boolean> revoke(String username, String keyId) {
    return durably(revoke, List.of(RedisKeys.CREATOR_KEY_INDEX, RedisKeys.creatorKeys(username)), List.of(keyId))
      .map(r -> r.toInteger() == 1);
  }

  /** {@code [{"key_id","created_at"}]}, oldest id first; never the keys or their hashes. */
  public Future<JsonArray> list(String username) {
    return redis.send(Request.cmd(Command.HGETALL).arg(RedisKeys.creatorKeys(username))).map(r -> {
      JsonArray out = new JsonArray();
      new TreeMap<>(dev.biogate.redis.StreamReplies.fields(r)).forEach((keyId, entry) -> out.add(new JsonObject().put("key_id", keyId)
        .put("created_at", Instant.ofEpochMilli(createdAt(entry)).toString())));
      return out;
    });
  }

  /** The creator a presented key belongs to, or {@code null} when it is no (longer a) valid key. */
  public Future<String> owner(String presented) {
    String hash = hash(presented);
    return hash == null ? Future.succeededFuture(null) : ownerOf(hash);
  }

  /** The hash a presented key is stored and looked up by, or {@code null} when it cannot be a key (no lookup needed). */
  static String hash(String presented) {
    return presented == null || !presented.startsWith(PREFIX) || presented.length() > MAX_KEY_LENGTH ? null : sha256(presented);
  }

  /** The creator of the key whose {@link #hash} this is, or {@code null} when it is no (longer a) valid key. */
  Future<String> ownerOf(String hash) {
    return redis.send(Request.cmd(Command.HGET).arg(RedisKeys.CREATOR_KEY_INDEX).arg(hash)).map(r -> {
      if (r == null) {
        return null;
      }
      String v = r.toString();
      int colon = v.lastIndexOf(':');
      return colon > 0 ? v.substring(0, colon) : null;
    });
  }

  /** Key ids as issued: 16 lower-case hex digits. */
  public static boolean validKeyId(String s) {
    return s != null && s.length() == 16 && s.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }

  private static long createdAt(String entry) {
    int colon = entry == null ? -1 : entry.indexOf(':');
    try {
      return colon < 0 ? 0 : Long.parseLong(entry.substring(colon + 1));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  static String sha256(String key) {
    return Sha256.hex(key.getBytes(StandardCharsets.UTF_8));
  }
}
