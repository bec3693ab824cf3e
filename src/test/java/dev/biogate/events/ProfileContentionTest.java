package dev.biogate.events;

import dev.biogate.Gateway;
import dev.biogate.config.LinkmeAttributionOptions;
import dev.biogate.profile.ProfileStore;
import dev.biogate.redis.RedisKeys;
import dev.biogate.stream.Outcome;
import dev.biogate.stream.StreamEntry;
import dev.biogate.support.HarnessTest;
import dev.biogate.support.HoldingRedisProxy;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A change that loses the race to write a hot profile again and again is tried later, without spending one of its
 * delivery's attempts: every lost race means another write got in, so the profile is being written, not failing.
 * Found in a Cluster drill with three instances applying changes to one hot profile: 7 {@code link.updated} used up
 * their versioned retries ("the profile kept changing while it was patched"), and each spent an attempt, as a failure
 * would; a longer burst would have dead-lettered some.
 * <p>
 * The race is forced: instance A's Redis traffic goes through a {@link HoldingRedisProxy} that holds each of its
 * profile writes until instance B has written the profile (a change to another part), so every write of A's is
 * refused, for as long as the test keeps it up. The events stream's handler is driven directly.
 */
class ProfileContentionTest extends HarnessTest {

  /** The profile write of a webhook patch. */
  private static final String PATCH_WRITE = ChangeOrderRaceTest.PATCH_WRITE;
  /** More lost races than any retry count inside one attempt would take. */
  private static final int MAX_RACES = 30;

  private HoldingRedisProxy proxy;

  @AfterEach
  void closeProxy(VertxTestContext ctx) {
    HoldingRedisProxy.closeAfter(proxy, ctx);
  }

  @Test
  void aChangeThatKeepsLosingTheRaceToWriteIsKeptNotFailed(VertxTestContext ctx) {
    long now = System.currentTimeMillis();
    AtomicInteger races = new AtomicInteger();
    proxy = HoldingRedisProxy.forTestRedis(h.vertx);
    proxy.start().compose(viaProxy -> h.gateway(new JsonObject().put("redis", new JsonObject().put("url", viaProxy)))
      .compose(a -> h.gateway(new JsonObject()).compose(b -> h.get(a, "/v1/profiles/bob").compose(warm -> h.get(b, "/v1/profiles/bob"))
        .compose(warm -> {
          EventRouter onA = new EventRouter(new ProfileEventHandler(a.profiles(), a.redis()), null, null, null,
            new LinkmeAttribution(new LinkmeAttributionOptions(new JsonObject())), null);
          ProfileEventHandler onB = new ProfileEventHandler(b.profiles(), b.redis());
          Future<Void> held = proxy.holdNext(PATCH_WRITE);
          Future<Outcome> handled = onA.handle(linkUpdated("https://contended.example/", now - 1_000));
          return rival(held, handled, onB, now, races).compose(v -> handled).compose(outcome -> {
            assertEquals(Outcome.Kind.KEEP, outcome.kind(), "lost " + races.get() + " races: kept, no attempt spent");
            assertTrue(races.get() >= 2, "the race was lost " + races.get() + " times");
            // The rival has stopped: tried again, the change is written.
            return onA.handle(linkUpdated("https://contended.example/", now - 1_000));
          }).compose(outcome -> {
            assertEquals(Outcome.Kind.DONE, outcome.kind(), "written once the profile is quiet");
            return new ProfileStore(b.redis(), b.profiles().freshness(), RedisKeys.invalidateChannel(0)).get("bob");
          }).map(shared -> {
            JsonObject doc = shared.copy().decode();
            assertEquals("https://contended.example/", doc.getJsonArray("links").getJsonObject(0).getString("url"));
            assertTrue(doc.getString("bio").startsWith("rival "), "the rival's changes stay");
            return null;
          });
        }))))
      .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * Each time A's write is held, B changes bob's bio (a newer change each time) and A's write goes on, refused;
   * until A's attempt ends (or {@link #MAX_RACES}).
   */
  private Future<Void> rival(Future<Void> held, Future<Outcome> handled, ProfileEventHandler onB, long now, AtomicInteger races) {
    Promise<Void> either = Promise.promise();
    held.onComplete(ar -> either.tryComplete());
    handled.onComplete(ar -> either.tryComplete());
    return either.future().compose(first -> {
      if (handled.isComplete() || races.get() >= MAX_RACES) {
        proxy.release();
        return Future.succeededFuture();
      }
      int race = races.incrementAndGet();
      return onB.profileUpdated(new JsonObject().put("username", "bob").put("bio", "rival " + race)
        .put("avatar_url", "https://cdn.example.net/b.png").put("theme", "dusk"), now - 60_000 + race).compose(change -> {
        assertEquals(ProfileEventHandler.Change.PATCHED, change);
        // Released first (a release disarms), then armed again before A's next write: it needs a read first.
        proxy.release();
        Future<Void> next = proxy.holdNext(PATCH_WRITE);
        return rival(next, handled, onB, now, races);
      });
    });
  }

  private static StreamEntry linkUpdated(String url, long madeAtMs) {
    JsonObject data = new JsonObject().put("username", "bob").put("link_id", "lnk_bob_01").put("title", "Contended")
      .put("url", url).put("position", 0).put("thumbnail_url", null);
    JsonObject envelope = new JsonObject().put("type", "link.updated").put("timestamp", madeAtMs).put("data", data);
    return new StreamEntry(madeAtMs + "-0", Map.of("provider", "linktree", "type", "link.updated",
      "delivery_id", "contended-1", "received", Long.toString(madeAtMs), "body", envelope.encode()));
  }
}
