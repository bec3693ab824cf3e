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
}
