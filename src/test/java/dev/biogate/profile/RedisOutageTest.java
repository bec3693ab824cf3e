package dev.biogate.profile;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.DedicatedRedisTest;
import dev.biogate.support.Harness;
import dev.biogate.support.ManualClock;
import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With Redis unreachable the budget cannot be coordinated, so instances serve what they hold instead of fetching:
 * a failed lock attempt is never taken for "the lock is mine".
 */
class RedisOutageTest extends DedicatedRedisTest {

  private static final long FRESH_MS = 10_000;
  private static final long SWR_MS = 60_000;
  private static final JsonObject CACHE = new JsonObject().put("cache", new JsonObject().put("freshTtlMs", FRESH_MS)
    .put("staleWhileRevalidateMs", SWR_MS).put("staleIfErrorMs", 600_000));
  private static final List<String> USERS = List.of("demo", "alice", "bob");
  /**
   * An instance cut off from Redis grants locally only a window (plus the longest request) after the shared log began
   * counting its share (a few heartbeats): until then misses are refused. A short window keeps that short.
   */
  private static final JsonObject FETCHING_WITHOUT_REDIS = CACHE.copy().put("linktree", new JsonObject()
    .put("ratePeriodMs", 2_000).put("profileTimeoutMs", 1_000).put("heartbeatMs", 200));

  private final ManualClock clock = new ManualClock();

  @Test
  void servesHeldCopiesWithoutFetchingWhileRedisIsDown(VertxTestContext ctx) {
    h.gateway(CACHE, clock).compose(a -> h.gateway(CACHE, clock).compose(b -> {
      Gateway[] both = {a, b};
      return readAll(both, 1).compose(warm -> h.sandboxStats()).compose(before -> {
        stopRedis();
        clock.advance(FRESH_MS + 1_000); // stale: served while a refresh would be tried
        return readAll(both, 5).compose(stale -> {
          stale.forEach(r -> {
            assertEquals(200, r.statusCode());
            assertEquals("STALE", r.getHeader("X-Cache"));
          });
          clock.advance(SWR_MS); // past stale-while-revalidate: a read would fetch first if it could
          return readAll(both, 5);
        }).compose(errorOnly -> {
          errorOnly.forEach(r -> {
            assertEquals(200, r.statusCode());
            assertEquals("STALE", r.getHeader("X-Cache"));
            assertTrue(r.getHeader("Cache-Status").contains("stale-if-error"), r.getHeader("Cache-Status"));
          });
          return h.sandboxStats();
        }).map(after -> {
          assertEquals(before.getInteger("requests"), after.getInteger("requests"), "no upstream call while Redis is down");
          return null;
        });
      });
    })).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void fetchesAProfileNothingHoldsOncePerInstanceWhileRedisIsDown(VertxTestContext ctx) {
    h.gateway(FETCHING_WITHOUT_REDIS.copy(), clock).compose(g -> {
      stopRedis();
      // Wait until another profile can be fetched, then read.
      return h.eventually(() -> h.get(g, "/v1/profiles/bob").map(r -> r.statusCode() == 200), 20_000).map(g);
    }).compose(g -> {
      List<Future<HttpResponse<Buffer>>> reads = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        reads.add(h.get(g, "/v1/profiles/alice"));
      }
      return Future.all(reads).map(all -> {
        for (int i = 0; i < all.size(); i++) {
          HttpResponse<Buffer> r = all.resultAt(i);
          assertEquals(200, r.statusCode(), r.bodyAsString());
        }
        return null;
      });
    }).compose(v -> h.upstreamCalls("/profiles/alice")).onComplete(ctx.succeeding(calls -> ctx.verify(() -> {
      assertEquals(1, calls, "one fetch in this instance's single flight");
      ctx.completeNow();
    })));
  }

  /**
   * A copy fetched while Redis was down is written to the shared cache once Redis is back (if nothing was written for
   * the profile meanwhile): another instance then reads it there, without spending the upstream budget on it. It was
   * kept in the fetching instance's memory alone, and a drill saw reads answered 503 by other instances, their budget
   * spent, while one instance held the profile.
   */
  @Test
  void aCopyFetchedWhileRedisWasDownIsSharedOnceItIsBack(VertxTestContext ctx) {
    JsonObject config = FETCHING_WITHOUT_REDIS.copy();
    h.gateway(config, clock).compose(a -> {
      stopRedis();
      return h.eventually(() -> h.get(a, "/v1/profiles/bob").map(r -> r.statusCode() == 200), 20_000);
    }).compose(fetched -> sharedAfterARestart(config, "the copy fetched while Redis was down"))
      .onComplete(ctx.succeeding(calls -> ctx.verify(() -> {
        assertEquals(1, calls, "fetched once, by the instance cut off from Redis");
        ctx.completeNow();
      })));
  }

  /**
   * A copy an instance took from the shared cache is written back to it when Redis comes back empty (restarted
   * without its data; this test's Redis keeps none): another instance then reads it there instead of spending the
   * upstream budget on it. Only copies fetched while Redis was down were written back (a drill: 5 of 5 profiles fetched
   * before the outage were not).
   */
  @Test
  void aCopyHeldWhenRedisCameBackEmptyIsSharedAgain(VertxTestContext ctx) {
    h.gateway(CACHE, clock).compose(a -> h.get(a, "/v1/profiles/bob")).compose(fetched -> {
      assertEquals("MISS", fetched.getHeader("X-Cache"));
      return sharedAfterARestart(CACHE, "the copy held when Redis came back empty");
    }).onComplete(ctx.succeeding(calls -> ctx.verify(() -> {
      assertEquals(1, calls, "fetched once, before Redis lost it");
      ctx.completeNow();
    })));
  }

  /**
   * Restarts Redis (empty), waits until bob's copy is written to it again, then has a new gateway read bob from the
   * shared cache as a HIT; completes with the upstream calls made for bob in all.
   */
  private Future<Integer> sharedAfterARestart(JsonObject config, String copy) {
    try {
      redis.restart();
    } catch (IOException e) {
      return Future.failedFuture(e);
    }
    return h.eventually(() -> Future.succeededFuture(
        dev.biogate.support.Resp.call(redis.port(), "EXISTS", RedisKeys.profile("bob")) instanceof Number n && n.longValue() == 1), 10_000)
      .recover(err -> Future.failedFuture(new AssertionError(copy + " is not in it", err)))
      .compose(shared -> h.gateway(config, clock))
      .compose(b -> h.get(b, "/v1/profiles/bob"))
      .compose(fromShared -> {
        assertEquals(200, fromShared.statusCode(), fromShared.bodyAsString());
        assertEquals("HIT", fromShared.getHeader("X-Cache"), "read from the shared cache");
        return h.upstreamCalls("/profiles/bob");
      });
  }

  @Test
  void keepsServingACopyItServedFromTheSharedCacheOnceRedisIsGone(VertxTestContext ctx) {
    h.gateway(CACHE, clock).compose(a -> h.gateway(CACHE, clock).compose(b ->
      h.get(a, "/v1/profiles/alice").compose(warm -> {
        assertEquals("MISS", warm.getHeader("X-Cache"), "A fetched the copy; B never read it");
        clock.advance(FRESH_MS + SWR_MS + 1_000); // past stale-while-revalidate: served only if the upstream fails
        return h.fault(new JsonObject().put("mode", "down"));
      }).compose(v -> h.get(b, "/v1/profiles/alice")).compose(fromShared -> {
        assertEquals(200, fromShared.statusCode(), fromShared.bodyAsString());
        assertTrue(fromShared.getHeader("Cache-Status").contains("stale-if-error"), fromShared.getHeader("Cache-Status"));
        stopRedis();
        return h.get(b, "/v1/profiles/alice");
      }).map(withoutRedis -> {
        assertEquals(200, withoutRedis.statusCode(), "B serves again what it served: " + withoutRedis.bodyAsString());
        assertEquals("STALE", withoutRedis.getHeader("X-Cache"));
        return null;
      }))).onComplete(ctx.succeedingThenComplete());
  }

  private void stopRedis() {
    try {
      redis.stop();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads every test profile {@code times} times on each gateway, all at once. */
  private Future<List<HttpResponse<Buffer>>> readAll(Gateway[] gateways, int times) {
    List<Future<HttpResponse<Buffer>>> reads = new ArrayList<>();
    for (Gateway g : gateways) {
      for (String u : USERS) {
        for (int i = 0; i < times; i++) {
          reads.add(h.get(g, "/v1/profiles/" + u));
        }
      }
    }
    return Future.all(reads).map(all -> {
      List<HttpResponse<Buffer>> out = new ArrayList<>();
      for (int i = 0; i < all.size(); i++) {
        out.add(all.resultAt(i));
      }
      return out;
    });
  }
}
