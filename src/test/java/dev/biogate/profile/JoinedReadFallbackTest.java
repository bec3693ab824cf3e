package dev.biogate.profile;

import dev.biogate.redis.RedisKeys;
import dev.biogate.support.HarnessTest;
import dev.biogate.support.HoldingRedisProxy;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A reader that holds a copy it may serve stale-if-error gets that copy when the upstream fails, also when it joined
 * a resolution another reader started with nothing: that resolution falls back only to its starter's copy, and its
 * failure used to reach every reader that joined it (a {@code 503 upstream_unavailable} for a profile the instance
 * held, seen once in a Sentinel failover drill). The contract: 503 only with no cached copy and the upstream
 * unavailable.
 * <p>
 * The interleaving is forced: the first reader's fetch lock attempt is held (a {@link HoldingRedisProxy} in front of
 * Redis) while the instance gets a copy and the second reader joins; {@code staleIfSlowMs} is long, so the failure,
 * not the stale-if-slow timer, answers the second reader.
 */
class JoinedReadFallbackTest extends HarnessTest {

  private HoldingRedisProxy proxy;

  @AfterEach
  void closeProxy(VertxTestContext ctx) {
    HoldingRedisProxy.closeAfter(proxy, ctx);
  }

  @Test
  void aReaderHoldingAServableCopyGetsItWhenTheResolutionItJoinedFails(VertxTestContext ctx) {
    proxy = HoldingRedisProxy.forTestRedis(h.vertx);
    JsonObject config = new JsonObject().put("cache", new JsonObject().put("staleIfSlowMs", 600_000))
      .put("linktree", new JsonObject().put("maxRetries", 0));
    proxy.start()
      .compose(viaProxy -> h.gateway(config.copy().put("redis", new JsonObject().put("url", viaProxy))))
      .compose(g -> h.fault(new JsonObject().put("mode", "down")).compose(v -> {
        ProfileService profiles = g.profiles();
        // The first reader holds nothing: its resolution has no copy to fall back to.
        Future<Void> lockAttempt = proxy.holdNext(RedisKeys.fetchLock("alice"));
        Future<ProfileService.Result> first = profiles.resolve("alice", null);
        return lockAttempt.compose(held -> {
          // Meanwhile the instance got a copy (a webhook's patch, say) that is since outdated: servable if the
          // upstream fails. A reader holding it joins the resolution in flight.
          CachedProfile copy = ProfileDocument.found("alice", ProfileDocument.canonical("alice", Profiles.withBio("held bio")),
            profiles.now()).asOutdated();
          profiles.cache().put(copy);
          assertTrue(profiles.resolving("alice"), "the first reader's resolution is in flight");
          Future<ProfileService.Result> second = profiles.resolve("alice", copy);
          proxy.release();
          return first.transform(ar -> second).map(r -> {
            assertEquals(ProfileService.Outcome.STALE_IF_ERROR, r.outcome);
            assertEquals("held bio", r.profile.decode().getString("bio"), "the copy the reader held");
            return null;
          });
        });
      })).onComplete(ctx.succeedingThenComplete());
  }
}
