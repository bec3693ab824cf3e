package dev.biogate.profile;

import dev.biogate.config.CacheOptions;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The times of the changes written to a profile (one field per part: its own fields, each link) are kept 96 hours
 * after the last change, so a creator whose links keep changing grew the hash by one field per link id ever changed,
 * for as long as the changes kept coming. Past 256 parts, the times older than the 96 hours are dropped: no retry of
 * a change that old can arrive any more.
 */
@ExtendWith(VertxExtension.class)
class ChangeTimesPruneTest {

  private static final long HOUR_MS = 3_600_000L;

  @Test
  void timesOlderThanTheirMemoryAreDroppedOnceAProfileHasManyParts(Vertx vertx, VertxTestContext ctx) {
    Redis redis = TestRedis.client(vertx);
    ProfileStore store = new ProfileStore(redis, new Freshness(new CacheOptions(new JsonObject())), "prune-" + UUID.randomUUID());
    String user = "prune-" + UUID.randomUUID();
    long now = System.currentTimeMillis();
    Future<Long> writes = Future.succeededFuture();
    for (int i = 0; i < 300; i++) {
      ChangeTime old = ChangeTime.link("old-" + i, now - 100 * HOUR_MS);
      writes = writes.compose(v -> store.tombstone(user, old));
    }
    for (int i = 0; i < 20; i++) {
      ChangeTime recent = ChangeTime.link("new-" + i, now - HOUR_MS);
      writes = writes.compose(v -> store.tombstone(user, recent));
    }
    writes.compose(v -> redis.send(Request.cmd(Command.HLEN).arg(RedisKeys.profileChanges(user))))
      .compose(len -> redis.send(Request.cmd(Command.HEXISTS).arg(RedisKeys.profileChanges(user)).arg("link:new-0"))
        .map(kept -> new long[] {len.toLong(), kept.toLong()}))
      .compose(r -> store.tombstone(user, ChangeTime.link("new-0", now - 2 * HOUR_MS)).map(older -> new long[] {r[0], r[1], older}))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertTrue(r[0] <= 20 + 64, "the old parts' times are dropped: " + r[0] + " fields for 20 recent parts");
        assertEquals(1, r[1], "a recent part's time is kept");
        assertEquals(ProfileStore.OLDER, r[2], "and still refuses an older change to that part");
        redis.close();
        ctx.completeNow();
      })));
  }
}
