package dev.biogate.profile;

import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
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

  /** Stores the copy for as long as it can be served at all. */
  public Future<Void> put(CachedProfile p, long nowMs) {
    return redis.send(Request.cmd(Command.SET).arg(RedisKeys.profile(p.username())).arg(ProfileCodec.encode(p))
        .arg("PX").arg(freshness.remainingMs(p, nowMs)))
      .mapEmpty();
  }

  public Future<Void> delete(String username) {
    return redis.send(Request.cmd(Command.DEL).arg(RedisKeys.profile(username))).mapEmpty();
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
