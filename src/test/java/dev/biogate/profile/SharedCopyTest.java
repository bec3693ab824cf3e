package dev.biogate.profile;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.Harness;
import dev.biogate.support.HoldingRedisProxy;
import dev.biogate.support.ManualClock;
import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How instances share one profile copy: every accepted write reaches every L1; one fetch per change, cluster-wide. */
@ExtendWith(VertxExtension.class)
class SharedCopyTest {

  private static final long FRESH_MS = 10_000;
  private static final JsonObject CACHE = new JsonObject().put("cache", new JsonObject().put("freshTtlMs", FRESH_MS)
    .put("staleWhileRevalidateMs", 60_000).put("staleIfErrorMs", 600_000));

  private Harness h;
  private HoldingRedisProxy proxy;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    h.start().onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    Future<Void> closing = h.close();
    (proxy == null ? closing : closing.eventually(proxy::close)).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aCopyFetchedByOneInstanceReplacesTheOtherInstancesFreshCopy(VertxTestContext ctx) {
    // Two clocks: A's copy is stale (so A fetches) while B's is still fresh (so only an invalidation can drop it).
    ManualClock clockA = new ManualClock();
    ManualClock clockB = new ManualClock();
    h.putProfile("shared", Profiles.withBio("first bio"))
      .compose(v -> h.gateway(CACHE, clockA)).compose(a -> h.gateway(CACHE, clockB).compose(b ->
        Profiles.bio(h, a, "shared").compose(v -> Profiles.bio(h, b, "shared")).compose(held -> {
          assertEquals("first bio", held, "B holds the first copy in L1");
          return h.putProfile("shared", Profiles.withBio("second bio"));
        }).compose(v -> {
          clockA.advance(FRESH_MS + 1_000);
          return h.eventually(() -> Profiles.bio(h, a, "shared").map("second bio"::equals), 5_000);
        }).compose(v -> h.eventually(() -> Profiles.bio(h, b, "shared").map("second bio"::equals), 1_000))
        .compose(v -> h.upstreamCalls("/profiles/shared"))))
      .onComplete(ctx.succeeding(calls -> ctx.verify(() -> {
        assertEquals(2, calls, "the first fetch and A's refresh; B fetched nothing");
        ctx.completeNow();
      })));
  }

  @Test
  void anInstanceThatGetsTheLockAfterItWasReleasedServesTheSharedCopyInsteadOfFetching(VertxTestContext ctx) {
    int redisPort = URI.create(TestRedis.url()).getPort();
    proxy = new HoldingRedisProxy(h.vertx, redisPort);
    String lock = RedisKeys.fetchLock("lockstep");
    h.putProfile("lockstep", Profiles.withBio("only bio"))
      .compose(v -> h.fault(new JsonObject().put("mode", "slow").put("latency_ms", 300)))
      .compose(v -> proxy.start())
      .compose(viaProxy -> h.gateway(CACHE).compose(a ->
        h.gateway(CACHE.copy().put("redis", new JsonObject().put("url", viaProxy))).compose(b -> {
          // A misses, takes the lock and fetches (slowly).
          Future<HttpResponse<Buffer>> readA = h.get(a, "/v1/profiles/lockstep");
          return h.eventually(() -> h.upstreamCalls("/profiles/lockstep").map(n -> n == 1), 5_000).compose(v -> {
            // B misses L2 while A is fetching; its lock attempt is held back until A has published and unlocked.
            Future<Void> lockAttemptHeld = proxy.holdNext(lock);
            Future<HttpResponse<Buffer>> readB = h.get(b, "/v1/profiles/lockstep");
            return lockAttemptHeld.compose(held -> readA)
              .compose(fromA -> h.eventually(() -> h.redis(Request.cmd(Command.EXISTS).arg(lock)).map(r -> r.toInteger() == 0), 5_000)
                .compose(unlocked -> {
                  proxy.release();
                  return readB;
                })
                .map(fromB -> {
                  assertEquals(200, fromA.statusCode());
                  assertEquals(200, fromB.statusCode());
                  assertEquals(fromA.getHeader("ETag"), fromB.getHeader("ETag"), "B serves A's copy");
                  return null;
                }));
          });
        })))
      .compose(v -> h.upstreamCalls("/profiles/lockstep"))
      .onComplete(ctx.succeeding(calls -> ctx.verify(() -> {
        assertEquals(1, calls, "exactly one upstream profile fetch for the two instances");
        ctx.completeNow();
      })));
  }

  @Test
  void aLockAttemptThatTimesOutIsNeverTakenForTheLock(VertxTestContext ctx) {
    ManualClock clock = new ManualClock();
    int redisPort = URI.create(TestRedis.url()).getPort();
    proxy = new HoldingRedisProxy(h.vertx, redisPort);
    proxy.start().compose(viaProxy -> h.gateway(CACHE.copy().put("redis", new JsonObject().put("url", viaProxy)), clock))
      .compose(g -> Profiles.bio(h, g, "alice").compose(warm -> h.sandboxStats()).compose(before -> {
        clock.advance(FRESH_MS + 61_000); // past stale-while-revalidate: a read refreshes first if it can
        // The lock attempt never reaches Redis: it fails by timeout while L2 reads still work.
        Future<Void> held = proxy.holdNext(RedisKeys.fetchLock("alice"));
        return h.get(g, "/v1/profiles/alice").compose(r -> held.map(v -> {
          assertEquals(200, r.statusCode());
          assertEquals("STALE", r.getHeader("X-Cache"), "the held copy is served, nothing fetched uncoordinated");
          return null;
        })).compose(v -> h.sandboxStats()).map(after -> {
          assertEquals(before.getInteger("requests"), after.getInteger("requests"), "no upstream call without the lock");
          return null;
        });
      }))
      .onComplete(ar -> {
        proxy.release();
        ctx.verify(() -> {
          if (ar.failed()) {
            throw new AssertionError(ar.cause());
          }
        });
        ctx.completeNow();
      });
  }
}
