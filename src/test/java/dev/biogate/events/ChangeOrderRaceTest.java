package dev.biogate.events;

import dev.biogate.Gateway;
import dev.biogate.events.ProfileEventHandler.Change;
import dev.biogate.profile.CachedProfile;
import dev.biogate.profile.ProfileStore;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.HarnessTest;
import dev.biogate.support.HoldingRedisProxy;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two changes to one profile handled at the same moment on two instances end with the newer one, whatever the
 * interleaving. Found in a Cluster drill: with an older and a newer {@code profile.updated} (or {@code link.updated},
 * or a {@code link.created} older than a {@code link.deleted}) handled within a few milliseconds, the older one won on
 * every instance in 7 % of the pairs, and a deleted link came back. The order check and the write were two steps: the
 * older change passed its check before the newer one recorded its time, and then wrote after it (on a refused write it
 * read the newer copy and applied itself again on top).
 * <p>
 * The interleaving is forced: instance A's Redis traffic goes through a {@link HoldingRedisProxy} that holds the older
 * change at a chosen command until instance B has applied the newer one. The handlers are driven directly.
 */
class ChangeOrderRaceTest extends HarnessTest {

  /** The profile write of a webhook patch (redis/profile_write.lua, mode {@code patch}). */
  static final String PATCH_WRITE = "$5\r\npatch\r\n";

  private HoldingRedisProxy proxy;

  @AfterEach
  void closeProxy(VertxTestContext ctx) {
    HoldingRedisProxy.closeAfter(proxy, ctx);
  }

  /** The older change read the copy first; its write reached Redis after the newer change had been written. */
  @Test
  void anOlderProfileChangeWrittenAfterANewerOneOnAnotherInstanceIsSkipped(VertxTestContext ctx) {
    long now = System.currentTimeMillis();
    race(PATCH_WRITE,
      a -> a.profileUpdated(bio("OLDER bio"), now - 10_000),
      b -> b.profileUpdated(bio("NEWER bio"), now - 5_000))
      .map(copy -> {
        assertEquals("NEWER bio", copy.decode().getString("bio"), "the newer change stays");
        return null;
      }).onComplete(ctx.succeedingThenComplete());
  }

  /** The older change read the copy only after the newer one was written: its version check alone would pass. */
  @Test
  void anOlderProfileChangeThatReadsTheNewerCopyIsSkipped(VertxTestContext ctx) {
    long now = System.currentTimeMillis();
    race(read("bob"),
      a -> a.profileUpdated(bio("OLDER bio"), now - 10_000),
      b -> b.profileUpdated(bio("NEWER bio"), now - 5_000))
      .map(copy -> {
        assertEquals("NEWER bio", copy.decode().getString("bio"), "the newer change stays");
        return null;
      }).onComplete(ctx.succeedingThenComplete());
  }

  /** A late {@code link.created} never brings back a link a newer {@code link.deleted} removed. */
  @Test
  void anOlderLinkCreatedRacingANewerLinkDeletedDoesNotBringTheLinkBack(VertxTestContext ctx) {
    long now = System.currentTimeMillis();
    JsonObject created = new JsonObject().put("username", "bob").put("link_id", "lnk_bob_03").put("title", "Back again")
      .put("url", "https://resurrected.example/").put("position", 2);
    JsonObject deleted = new JsonObject().put("link_id", "lnk_bob_03");
    race(PATCH_WRITE,
      a -> a.linkChanged("link.created", created, now - 10_000),
      b -> b.linkChanged("link.deleted", deleted, now - 5_000))
      .map(copy -> {
        assertEquals(List.of("lnk_bob_01", "lnk_bob_02"), linkIds(copy), "the deleted link stays deleted");
        return null;
      }).onComplete(ctx.succeedingThenComplete());
  }

  /** An older {@code link.updated} racing a newer one of the same link leaves the newer URL. */
  @Test
  void anOlderLinkUpdatedRacingANewerOneIsSkipped(VertxTestContext ctx) {
    long now = System.currentTimeMillis();
    JsonObject newer = new JsonObject().put("link_id", "lnk_bob_02").put("title", "Order").put("url", "https://new.example/v2")
      .put("position", 1).put("thumbnail_url", null);
    JsonObject older = newer.copy().put("url", "https://old.example/v1");
    race(PATCH_WRITE,
      a -> a.linkChanged("link.updated", older, now - 10_000),
      b -> b.linkChanged("link.updated", newer, now - 5_000))
      .map(copy -> {
        assertEquals("https://new.example/v2", copy.decode().getJsonArray("links").getJsonObject(1).getString("url"));
        return null;
      }).onComplete(ctx.succeedingThenComplete());
  }

  /**
   * Both instances hold bob; A starts {@code older} and is held at the first command containing {@code needle}; B
   * applies {@code newer}; then A goes on. Completes with the shared copy once A has finished, after checking what
   * each change reported.
   */
  private Future<CachedProfile> race(String needle, Function<ProfileEventHandler, Future<Change>> older,
                                     Function<ProfileEventHandler, Future<Change>> newer) {
    proxy = HoldingRedisProxy.forTestRedis(h.vertx);
    return proxy.start().compose(viaProxy -> h.gateway(new JsonObject().put("redis", new JsonObject().put("url", viaProxy)))
      .compose(a -> h.gateway(new JsonObject()).compose(b -> h.get(a, "/v1/profiles/bob").compose(warm -> h.get(b, "/v1/profiles/bob"))
        .compose(warm -> {
          ProfileEventHandler onA = new ProfileEventHandler(a.profiles(), a.redis());
          ProfileEventHandler onB = new ProfileEventHandler(b.profiles(), b.redis());
          Future<Void> held = proxy.holdNext(needle);
          Future<Change> first = older.apply(onA);
          return held.compose(v -> newer.apply(onB)).compose(second -> {
            assertEquals(Change.PATCHED, second, "the newer change is applied");
            proxy.release();
            return first;
          }).compose(first2 -> {
            assertEquals(Change.OLDER, first2, "the older change is skipped");
            return shared(b);
          });
        }))));
  }

  private static Future<CachedProfile> shared(Gateway g) {
    return new ProfileStore(g.redis(), g.profiles().freshness(), RedisKeys.invalidateChannel(0)).get("bob").map(ProfileStore.Shared::copy);
  }

  /** The L2 read of bob's copy and version (the first step of a patch). */
  private static String read(String username) {
    String key = RedisKeys.profile(username);
    return "mget\r\n$" + key.length() + "\r\n" + key + "\r\n";
  }

  private static JsonObject bio(String bio) {
    return new JsonObject().put("username", "bob").put("bio", bio).put("avatar_url", "https://cdn.example.net/b.png").put("theme", "dusk");
  }

  private static List<String> linkIds(CachedProfile copy) {
    List<String> ids = new ArrayList<>();
    copy.decode().getJsonArray("links").forEach(l -> ids.add(((JsonObject) l).getString("id")));
    return ids;
  }
}
