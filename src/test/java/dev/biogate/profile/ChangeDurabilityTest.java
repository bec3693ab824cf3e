package dev.biogate.profile;

import dev.biogate.config.CacheOptions;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.ReplicaWatch;
import dev.biogate.support.MasterReplica;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * A webhook's change to a cached profile is written on the profile's master, and its event acknowledged (on a
 * Cluster, on another master): a change the failover of its master discarded, with its change time, was applied by
 * nobody again. A Cluster drill pointed at it (and an earlier one once saw a deleted link served on every instance
 * for 10 s after a master kill). A webhook change now waits for a replica, and fails as "not made durable" (the event
 * is then handled again) when none acknowledges; a fetch does not wait.
 */
@ExtendWith(VertxExtension.class)
class ChangeDurabilityTest {

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  void aWebhookChangeIsWrittenOnlyOnceAReplicaHoldsIt(Vertx vertx, VertxTestContext ctx) {
    String user = "durable-" + UUID.randomUUID();
    MasterReplica.start(vertx).compose(mr -> {
      Redis master = Redis.createClient(vertx, mr.masterUrl());
      ProfileStore store = new ProfileStore(master, null, new Freshness(new CacheOptions(new JsonObject())), "durable-" + UUID.randomUUID(),
        new ProfileStore.Durability(new ReplicaWatch(vertx, master, "on", 1), 300));
      long now = System.currentTimeMillis();
      return store.tombstone(user, ChangeTime.link("a", now))
        .compose(v -> mr.replica().send(Request.cmd(Command.HEXISTS).arg(RedisKeys.profileChanges(user)).arg("link:a")))
        .compose(held -> {
          assertEquals(1, held.toInteger(), "answered once the replica holds the change");
          return mr.stallReplica(vertx, 3);
        })
        .compose(stalled -> store.tombstone(user, ChangeTime.link("b", now)).transform(ar -> Future.succeededFuture(ar)))
        .compose(ar -> {
          assertSame(ReplicaWatch.NOT_DURABLE, ar.cause(), "no replica acknowledged: not made durable, " + ar);
          return Future.succeededFuture();
        })
        .eventually(master::close)
        .eventually(() -> mr.stop(vertx));
    }).onComplete(ctx.succeedingThenComplete());
  }
}
