package dev.biogate.events;

import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * A short cluster-wide lock around one webhook-driven change of a profile's shared copy. A patch reads the copy,
 * changes it and writes it back; two instances patching one profile at once would otherwise each start from the
 * same copy and the second write would drop the first change (two link events for one creator, handled by two
 * instances). Waits up to {@value #WAIT_MS} ms polling every {@value #POLL_MS} ms; a lock still busy after that
 * fails the attempt, which the events stream retries. The TTL bounds a holder that dies.
 */
final class PatchLock {

  private static final long TTL_MS = 5_000;
  static final long WAIT_MS = 2_000;
  static final long POLL_MS = 10;

  private final Vertx vertx;
  private final Redis redis;
  private final LuaScript release = LuaScript.load("lock_release");

  PatchLock(Vertx vertx, Redis redis) {
    this.vertx = vertx;
    this.redis = redis;
  }

  Future<Void> run(String username, Supplier<Future<Void>> work) {
    String token = UUID.randomUUID().toString();
    String key = RedisKeys.profilePatchLock(username);
    return acquire(key, token, System.currentTimeMillis() + WAIT_MS)
      .compose(v -> work.get().eventually(() -> release.run(redis, List.of(key), List.of(token)).otherwiseEmpty()));
  }

  private Future<Void> acquire(String key, String token, long deadline) {
    return redis.send(Request.cmd(Command.SET).arg(key).arg(token).arg("NX").arg("PX").arg(TTL_MS)).compose(r -> {
      if (r != null && "OK".equals(r.toString())) {
        return Future.succeededFuture();
      }
      if (System.currentTimeMillis() > deadline) {
        return Future.failedFuture(new EventFailure("profile is being changed by another instance"));
      }
      return vertx.timer(POLL_MS).compose(t -> acquire(key, token, deadline));
    });
  }
}
