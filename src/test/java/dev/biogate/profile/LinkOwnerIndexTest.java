package dev.biogate.profile;

import dev.biogate.config.CacheOptions;
import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Link webhooks name only the link, so each written copy records which username holds each of its links. The record
 * used to be one hash per shard for all time: every link id of every profile ever cached, kept forever on a Redis that
 * must never evict. It is now written per period (a copy's retention): an owner is found for at least a period after
 * it was recorded, longer than the copy written with it lives, and each period's hashes expire after the next one.
 */
@ExtendWith(VertxExtension.class)
class LinkOwnerIndexTest {

  @Test
  void anOwnerIsFoundForAPeriodAndItsHashesExpireAfterTheNext(Vertx vertx, VertxTestContext ctx) {
    Redis redis = TestRedis.client(vertx);
    CacheOptions options = new CacheOptions(new JsonObject());
    long period = Math.max(ProfileStore.MIN_OWNER_PERIOD_MS, options.retentionMs());
    ProfileStore store = new ProfileStore(redis, new Freshness(options), "owners-" + UUID.randomUUID());
    String user = "owner" + UUID.randomUUID().toString().substring(0, 8);
    String link = "lnk_" + UUID.randomUUID();
    long now = System.currentTimeMillis();
    CachedProfile copy = ProfileDocument.found(user, new JsonObject().put("bio", "b")
      .put("links", new JsonArray().add(new JsonObject().put("id", link).put("url", "https://example.com/x"))), now);
    List<String> owners = new ArrayList<>();
    store.put(ProfileStore.Write.FETCH, copy, 0, now)
      .compose(stored -> store.ownerOfLink(link, now)).map(owners::add)
      .compose(v -> store.ownerOfLink(link, now + period)).map(owners::add)
      .compose(v -> store.ownerOfLink(link, now + 2 * period)).map(owners::add)
      .compose(v -> ttls(redis, user, link))
      .onComplete(ctx.succeeding(ttls -> ctx.verify(() -> {
        assertEquals(user, owners.get(0), "found in the period it was recorded");
        assertEquals(user, owners.get(1), "and a period later, through the previous period's hash");
        assertNull(owners.get(2), "two periods later it is no longer read");
        assertEquals(1, ttls.size(), "one hash holds the link: " + ttls);
        long ttl = ttls.get(0);
        assertTrue(ttl > period && ttl <= 2 * period + 60_000, "expires after the next period ends: " + ttl + " ms, period " + period);
        redis.close();
        ctx.completeNow();
      })));
  }

  /** The TTLs of the index hashes holding {@code link}. */
  private static Future<List<Long>> ttls(Redis redis, String user, String link) {
    return redis.send(Request.cmd(Command.KEYS).arg("bg:link-owners:*")).compose(keys -> {
      List<Future<Long>> each = new ArrayList<>();
      for (Response key : keys) {
        each.add(redis.send(Request.cmd(Command.HGET).arg(key.toString()).arg(link)).compose(owner -> owner == null
          ? Future.succeededFuture(null)
          : redis.send(Request.cmd(Command.PTTL).arg(key.toString())).map(Response::toLong)));
      }
      return Future.all(each).map(all -> {
        List<Long> out = new ArrayList<>();
        each.forEach(f -> {
          if (f.result() != null) {
            out.add(f.result());
          }
        });
        return out;
      });
    });
  }
}
