package dev.biogate.profile;

import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.util.List;

/**
 * L2: copies shared by every instance through Redis, plus the short per-profile fetch lock that makes one instance
 * fetch while the others wait for its copy.
 */
public final class ProfileStore {

  private final Redis redis;
  private final Freshness freshness;
  private final LuaScript unlock = LuaScript.load("lock_release");

  public ProfileStore(Redis redis, Freshness freshness) {
    this.redis = redis;
    this.freshness = freshness;
  }

  /** The shared copy, or {@code null} when there is none (or it is unreadable). */
  public Future<CachedProfile> get(String username) {
    return redis.send(Request.cmd(Command.GET).arg(RedisKeys.profile(username)))
      .map(r -> r == null ? null : ProfileCodec.decode(username, r.toBuffer()));
  }

  /**
   * Stores the copy for as long as it can be served at all, and records which username owns each of its links
   * (link webhooks name only the link).
   */
  public Future<Void> put(CachedProfile p, long nowMs) {
    Future<?> set = redis.send(Request.cmd(Command.SET).arg(RedisKeys.profile(p.username())).arg(ProfileCodec.encode(p))
      .arg("PX").arg(freshness.remainingMs(p, nowMs)));
    if (!p.found()) {
      return set.mapEmpty();
    }
    JsonArray links = p.document().getJsonArray("links");
    if (links == null || links.isEmpty()) {
      return set.mapEmpty();
    }
    Request index = Request.cmd(Command.HSET).arg(RedisKeys.LINK_OWNERS);
    for (int i = 0; i < links.size(); i++) {
      index.arg(links.getJsonObject(i).getString("id")).arg(p.username());
    }
    return Future.all(set, redis.send(index)).mapEmpty();
  }

  public Future<String> ownerOfLink(String linkId) {
    return redis.send(Request.cmd(Command.HGET).arg(RedisKeys.LINK_OWNERS).arg(linkId)).map(r -> r == null ? null : r.toString());
  }

  /** {@code SET NX PX}: true when this caller now holds the fetch lock. */
  public Future<Boolean> tryLock(String username, String token, long ttlMs) {
    return redis.send(Request.cmd(Command.SET).arg(RedisKeys.fetchLock(username)).arg(token).arg("NX").arg("PX").arg(ttlMs))
      .map(r -> r != null && "OK".equals(r.toString()));
  }

  public Future<Void> unlock(String username, String token) {
    return unlock.run(redis, List.of(RedisKeys.fetchLock(username)), List.of(token)).mapEmpty();
  }
}
