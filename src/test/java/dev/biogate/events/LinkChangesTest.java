package dev.biogate.events;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which link payloads are applied to a cached copy. A position of 1e30 used to be served as 5076944270305263616 (a
 * long wrapped around), and -7 or 1.9 as given: positions outside what the links API accepts (whole numbers 0 to
 * 10,000) now make the payload incomplete, so the next read fetches the profile as the upstream has it.
 */
class LinkChangesTest {

  private static JsonObject created(Object position) {
    return new JsonObject().put("link_id", "lnk_1").put("title", "t").put("url", "https://example.com/").put("position", position);
  }

  @Test
  void aPositionIsAWholeNumberWithinTheLinksApiRange() {
    assertTrue(LinkChanges.complete("link.created", created(0)));
    assertTrue(LinkChanges.complete("link.created", created(10_000)));
    assertTrue(LinkChanges.complete("link.created", created(3.0)), "a whole number written as a decimal");
    assertFalse(LinkChanges.complete("link.created", created(1e30)));
    assertFalse(LinkChanges.complete("link.created", created(-7)));
    assertFalse(LinkChanges.complete("link.created", created(1.9)));
    assertFalse(LinkChanges.complete("link.created", created(10_001)));
    assertFalse(LinkChanges.complete("link.updated", created(Double.NaN).put("thumbnail_url", null)));
  }

  /**
   * Found by an attacker pass: a signed link.created with a link id holding a line feed, or of 300 characters, was added
   * to the cached profile and served, though its redirect answers 400 invalid_link_id (and the upstream path drops
   * such links); its title and URL were served unsanitised. Every link the profile serves can now be followed.
   */
  @Test
  void aLinkIsAppliedOnlyWithAnIdItsRedirectTakesAndIsSanitisedLikeTheUpstreams() {
    assertFalse(LinkChanges.complete("link.created", created(1).put("link_id", "w\nid")), "a line feed in the id");
    assertFalse(LinkChanges.complete("link.created", created(1).put("link_id", "L".repeat(129))), "129 characters");
    assertTrue(LinkChanges.complete("link.created", created(1).put("link_id", "L".repeat(128))), "128 characters");
    assertFalse(LinkChanges.complete("link.created", created(1).put("link_id", "   ")), "blank");
    assertFalse(LinkChanges.complete("link.created", created(1).put("url", "javascript:alert(1)")), "not a link URL");
    JsonObject doc = LinkChanges.apply("link.created", created(1).put("title", "<b>Shop</b>\u0007 now"), new JsonObject());
    JsonObject link = doc.getJsonArray("links").getJsonObject(0);
    org.junit.jupiter.api.Assertions.assertEquals("Shop now", link.getString("title"), "the title as the upstream path cleans it");
  }
}
