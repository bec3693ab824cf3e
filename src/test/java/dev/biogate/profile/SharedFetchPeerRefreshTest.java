package dev.biogate.profile;

import dev.biogate.redis.RedisKeys;
import dev.biogate.support.HarnessTest;
import dev.biogate.support.ManualClock;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two instances whose copies go stale together: A refreshes, B's own background refresh finds A's lock and waits for
 * A's copy in L2, polling every {@code lockPollMs}. A's write outdates B's stale copy (pub/sub) before B's next poll.
 * B's next read used to join that waiting refresh: it waited for the poll and was answered {@code MISS} (counted as
 * a miss) although the copy was in L2 and B spent no upstream call. The poll interval is long here so that the read
 * falls between the invalidation and the poll every time.
 */
class SharedFetchPeerRefreshTest extends HarnessTest {

  private static final long FRESH_MS = 10_000;
  private static final long POLL_MS = 10_000;
  private static final JsonObject CFG = new JsonObject().put("cache", new JsonObject().put("freshTtlMs", FRESH_MS)
    .put("staleWhileRevalidateMs", 60_000).put("staleIfErrorMs", 600_000)
    .put("lockPollMs", POLL_MS).put("lockWaitMs", 30_000));

  private final ManualClock clock = new ManualClock();

  @Test
  void aReadAfterAPeersRefreshIsAHitWithoutWaitingForTheOwnRefreshesNextPoll(VertxTestContext ctx) {
    String path = "/v1/profiles/peer";
    h.putProfile("peer", Profiles.withBio("first bio"))
      .compose(v -> h.gateway(CFG, clock)).compose(a -> h.gateway(CFG, clock).compose(b ->
        Profiles.bio(h, a, "peer").compose(v -> h.get(b, path)).compose(warmB -> {
          assertEquals("HIT", warmB.getHeader("X-Cache"), "B holds A's copy (same fetch time: both go stale together)");
          long heldVersion = b.profiles().cache().get("peer").version();
          return h.putProfile("peer", Profiles.withBio("second bio"))
            .compose(v -> h.fault(new JsonObject().put("mode", "slow").put("latency_ms", 1_000)))
            .compose(v -> {
              clock.advance(FRESH_MS + 1_000);
              return h.get(a, path);
            })
            .compose(staleA -> {
              assertEquals("STALE", staleA.getHeader("X-Cache"));
              // A's background refresh holds the fetch lock for the slow upstream call(s).
              return h.eventually(() -> h.redis(Request.cmd(Command.EXISTS).arg(RedisKeys.fetchLock("peer")))
                .map(r -> r.toInteger() == 1), 5_000);
            })
            .compose(v -> h.get(b, path))
            .compose(staleB -> {
              assertEquals("STALE", staleB.getHeader("X-Cache"), "B serves its stale copy; its refresh waits for A's");
              // A publishes; the invalidation reaches B (its copy is outdated, or already replaced by A's).
              return h.eventually(() -> Future.succeededFuture(heard(b.profiles().cache().get("peer"), heldVersion)), 10_000);
            })
            .compose(v -> h.get(b, path).map(r -> {
              // A MISS here is the read having joined B's waiting refresh (answered at its next poll, 10 s away).
              assertEquals(200, r.statusCode());
              assertEquals("HIT", r.getHeader("X-Cache"), "A's copy is in L2: B answers a hit, not a miss ("
                + r.getHeader("Cache-Status") + ")");
              assertTrue(r.getHeader("Cache-Status").startsWith("biogate; hit"), r.getHeader("Cache-Status"));
              assertEquals("0", r.getHeader("Age"));
              assertEquals("second bio", r.bodyAsJsonObject().getString("bio"));
              return null;
            }));
        })))
      .compose(v -> h.upstreamCalls("/profiles/peer"))
      .onComplete(ctx.succeeding(calls -> ctx.verify(() -> {
        assertEquals(2, calls, "the first fetch and A's refresh; B fetched nothing");
        ctx.completeNow();
      })));
  }

  /** Whether B has heard of A's write: its copy was outdated by the invalidation, or replaced by the newer one. */
  private static boolean heard(CachedProfile held, long heldVersion) {
    return held == null || held.outdated() || held.version() > heldVersion;
  }
}
