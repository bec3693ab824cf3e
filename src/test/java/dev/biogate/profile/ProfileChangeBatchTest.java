package dev.biogate.profile;

import dev.biogate.Gateway;
import dev.biogate.profile.ProfileService.Change;
import dev.biogate.profile.ProfileService.Patched;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several changes to one profile written together ({@link ProfileService#apply}) end as the same changes applied one
 * after another would: each skipped that one at a time would be skipped (older than a change written already, or
 * than one before it in the same write), an incomplete one outdates the copy, and one the document cannot take fails
 * alone.
 */
class ProfileChangeBatchTest extends HarnessTest {

  @Override
  protected JsonObject gatewayOverrides() {
    return new JsonObject();
  }

  @Test
  void aChangeOlderThanOneWrittenAlreadyIsSkippedAndTheOthersWritten(VertxTestContext ctx) {
    long now = System.currentTimeMillis();
    warm().compose(v -> g.profiles().patch("bob", ChangeTime.link("lnk_bob_01", now - 1_000), title("lnk_bob_01", "written first")))
      .compose(first -> {
        assertEquals(Patched.WRITTEN, first);
        return results(g.profiles().apply("bob", List.of(
          new Change(ChangeTime.link("lnk_bob_02", now - 5_000), title("lnk_bob_02", "second link")),
          new Change(ChangeTime.link("lnk_bob_01", now - 2_000), title("lnk_bob_01", "older than the first")),
          new Change(ChangeTime.profile(now - 3_000), doc -> doc.put("bio", "batched bio")))));
      }).compose(results -> {
        assertEquals(List.of(Patched.WRITTEN, Patched.OLDER, Patched.WRITTEN), results);
        return shared();
      }).map(copy -> {
        JsonObject doc = copy.decode();
        assertEquals("written first", titleOf(doc, "lnk_bob_01"), "the older change to the first link is skipped");
        assertEquals("second link", titleOf(doc, "lnk_bob_02"));
        assertEquals("batched bio", doc.getString("bio"));
        assertFalse(copy.outdated());
        return null;
      }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aChangeOlderThanOneBeforeItInTheSameWriteIsSkipped(VertxTestContext ctx) {
    long now = System.currentTimeMillis();
    warm().compose(v -> results(g.profiles().apply("bob", List.of(
        new Change(ChangeTime.link("lnk_bob_01", now - 1_000), title("lnk_bob_01", "newer")),
        new Change(ChangeTime.link("lnk_bob_01", now - 2_000), title("lnk_bob_01", "older, queued after")),
        new Change(ChangeTime.link("lnk_bob_01", now - 1_000), title("lnk_bob_01", "same time, after"))))))
      .compose(results -> {
        assertEquals(List.of(Patched.WRITTEN, Patched.OLDER, Patched.WRITTEN), results);
        return shared();
      }).map(copy -> {
        assertEquals("same time, after", titleOf(copy.decode(), "lnk_bob_01"), "a change at the same time is applied (as alone)");
        return null;
      }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void anIncompleteChangeAmongCompleteOnesOutdatesTheCopyTheyAreWrittenTo(VertxTestContext ctx) {
    long now = System.currentTimeMillis();
    warm().compose(v -> results(g.profiles().apply("bob", List.of(
        new Change(ChangeTime.link("lnk_bob_01", now - 3_000), title("lnk_bob_01", "patched")),
        new Change(ChangeTime.profile(now - 2_000), null),
        new Change(ChangeTime.link("lnk_bob_02", now - 1_000), title("lnk_bob_02", "patched after"))))))
      .compose(results -> {
        assertEquals(List.of(Patched.WRITTEN, Patched.WRITTEN, Patched.WRITTEN), results);
        return shared();
      }).map(copy -> {
        assertTrue(copy.outdated(), "served only if the upstream fails: the next read fetches the profile");
        assertEquals("patched", titleOf(copy.decode(), "lnk_bob_01"));
        assertEquals("patched after", titleOf(copy.decode(), "lnk_bob_02"));
        return null;
      }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aChangeTheDocumentCannotTakeFailsAlone(VertxTestContext ctx) {
    long now = System.currentTimeMillis();
    warm().compose(v -> {
      List<Future<Patched>> results = g.profiles().apply("bob", List.of(
        new Change(ChangeTime.link("lnk_bob_01", now - 3_000), title("lnk_bob_01", "before the bad one")),
        new Change(ChangeTime.profile(now - 2_000), doc -> {
          throw new IllegalStateException("a change that breaks the document");
        }),
        new Change(ChangeTime.link("lnk_bob_02", now - 1_000), title("lnk_bob_02", "after the bad one"))));
      return Future.join(results).transform(done -> {
        assertEquals(Patched.WRITTEN, results.get(0).result());
        assertTrue(results.get(1).failed(), "the change that broke the document fails");
        assertEquals(Patched.WRITTEN, results.get(2).result());
        return shared();
      });
    }).map(copy -> {
      assertEquals("before the bad one", titleOf(copy.decode(), "lnk_bob_01"));
      assertEquals("after the bad one", titleOf(copy.decode(), "lnk_bob_02"));
      return null;
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void changesToAProfileNobodyCachedLeaveOneTombstone(VertxTestContext ctx) {
    long now = System.currentTimeMillis();
    results(g.profiles().apply("nobody", List.of(
      new Change(ChangeTime.link("lnk_x", now - 1_000), doc -> doc),
      new Change(ChangeTime.link("lnk_y", now - 1_000), null))))
      .compose(results -> {
        assertEquals(List.of(Patched.NO_COPY, Patched.NO_COPY), results);
        // Both times were recorded with the tombstone: an older change to either link is now skipped.
        return results(g.profiles().apply("nobody", List.of(
          new Change(ChangeTime.link("lnk_y", now - 2_000), null),
          new Change(ChangeTime.link("lnk_x", now - 2_000), doc -> doc),
          new Change(ChangeTime.link("lnk_z", now - 2_000), doc -> doc))));
      }).map(results -> {
        assertEquals(List.of(Patched.OLDER, Patched.OLDER, Patched.NO_COPY), results);
        return null;
      }).onComplete(ctx.succeedingThenComplete());
  }

  private Future<Void> warm() {
    return h.get(g, "/v1/profiles/bob").mapEmpty();
  }

  private Future<CachedProfile> shared() {
    return store(g).get("bob").map(ProfileStore.Shared::copy);
  }

  private static ProfileStore store(Gateway g) {
    return new ProfileStore(g.redis(), g.profiles().freshness(), RedisKeys.invalidateChannel(0));
  }

  private static Future<List<Patched>> results(List<Future<Patched>> futures) {
    return Future.all(futures).map(all -> {
      List<Patched> results = new ArrayList<>();
      for (int i = 0; i < all.size(); i++) {
        results.add(all.resultAt(i));
      }
      return results;
    });
  }

  /** Sets the title of link {@code id}. */
  private static UnaryOperator<JsonObject> title(String id, String title) {
    return doc -> {
      JsonArray links = doc.getJsonArray("links");
      for (int i = 0; i < links.size(); i++) {
        if (id.equals(links.getJsonObject(i).getString("id"))) {
          links.getJsonObject(i).put("title", title);
        }
      }
      return doc;
    };
  }

  private static String titleOf(JsonObject doc, String id) {
    JsonArray links = doc.getJsonArray("links");
    for (int i = 0; i < links.size(); i++) {
      if (id.equals(links.getJsonObject(i).getString("id"))) {
        return links.getJsonObject(i).getString("title");
      }
    }
    return null;
  }
}
