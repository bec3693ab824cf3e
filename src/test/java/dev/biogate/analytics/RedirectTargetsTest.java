package dev.biogate.analytics;

import dev.biogate.profile.CachedProfile;
import dev.biogate.profile.ProfileDocument;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A copy's redirect targets, worked out once per copy: each link id with its target, {@code null} where the URL is
 * not a safe redirect, the first link winning when ids repeat; and the per-copy memo that keeps them.
 */
class RedirectTargetsTest {

  private static CachedProfile copy(JsonArray links) {
    return ProfileDocument.found("demo", new JsonObject().put("username", "demo").put("links", links), 1_000);
  }

  @Test
  void eachLinkIdMapsToItsSafeTargetAndTheFirstOfARepeatedIdWins() {
    JsonArray links = new JsonArray()
      .add(new JsonObject().put("id", "a").put("url", "https://a.example/x?y=1"))
      .add(new JsonObject().put("id", "b").put("url", "javascript:alert(1)"))
      .add(new JsonObject().put("id", "b").put("url", "https://b.example/"))
      .add(new JsonObject().put("id", "c").put("url", 42))
      .add(new JsonObject().put("id", "d").put("url", "https://d.example/caf\u00e9"))
      .add(new JsonObject().put("url", "https://no-id.example/"))
      .add("not an object");
    Map<String, String> targets = RedirectHandler.targets(copy(links));
    assertEquals("https://a.example/x?y=1", targets.get("a"));
    assertTrue(targets.containsKey("b"));
    assertNull(targets.get("b"), "the first link named b is unsafe: the later one does not stand in for it");
    assertNull(targets.get("c"), "a URL that is not a string");
    assertEquals("https://d.example/caf%C3%A9", targets.get("d"), "sent in ASCII form");
    assertEquals(4, targets.size(), targets.toString());
    assertTrue(RedirectHandler.targets(ProfileDocument.found("x", new JsonObject(), 1)).isEmpty(), "no links at all");
  }

  /** A URL java.net.URI takes but cannot write in ASCII (a lone surrogate) is no target, never an exception. */
  @Test
  void aUrlWithALoneSurrogateIsNoTargetAndTheOthersAreKept() {
    assertNull(RedirectHandler.safeTarget("https://example.com/\uD800"));
    JsonArray links = new JsonArray()
      .add(new JsonObject().put("id", "bad").put("url", "https://example.com/\uD800"))
      .add(new JsonObject().put("id", "good").put("url", "https://example.com/good"));
    Map<String, String> targets = RedirectHandler.targets(copy(links));
    assertNull(targets.get("bad"));
    assertEquals("https://example.com/good", targets.get("good"));
  }
}
