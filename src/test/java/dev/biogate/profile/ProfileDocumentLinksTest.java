package dev.biogate.profile;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Found by an attacker pass: an upstream link id "id\r\nX-Inj: 1" was served as "id\nX-Inj: 1" (the CR removed, the
 * line feed kept), a link nobody can follow (its redirect answers 400 invalid_link_id). A link is served only with an
 * id its redirect takes: 1-128 characters, not blank, no control character; other links are dropped and counted.
 */
class ProfileDocumentLinksTest {

  private static JsonObject link(String id) {
    return new JsonObject().put("id", id).put("title", "t").put("url", "https://example.com/").put("position", 0);
  }

  @Test
  void onlyLinksWhoseIdsTheirRedirectTakesAreServed() {
    JsonArray links = new JsonArray().add(link("ok_1")).add(link("id\r\nX-Inj: 1")).add(link("tab\tid"))
      .add(link("L".repeat(129))).add(link("L".repeat(128))).add(link(" ")).add(new JsonObject(link("n").getMap()).put("id", 42));
    JsonObject doc = ProfileDocument.canonical("creator", new JsonObject().put("username", "creator").put("links", links));
    List<String> ids = new ArrayList<>();
    doc.getJsonArray("links").forEach(l -> ids.add(((JsonObject) l).getString("id")));
    assertEquals(List.of("ok_1", "L".repeat(128), "42"), ids);
  }

  /**
   * Found with a hand-made upstream: a link whose position was not a number ({@code "nine"}) was served with position
   * 9223372036854775807, the sort key of "no position", which a browser reads as 9223372036854776000. Such a link
   * comes after the numbered ones, numbered after them; positions stay within what JavaScript holds exactly.
   */
  @Test
  void aLinkWithoutANumericPositionComesLastNumberedAfterTheOthers() {
    JsonArray links = new JsonArray()
      .add(link("nine").put("position", "nine"))
      .add(link("three").put("position", 3))
      .add(new JsonObject().put("id", "none").put("title", "t").put("url", "https://example.com/"))
      .add(link("huge").put("position", 1e19))
      .add(link("one").put("position", 1));
    JsonObject doc = ProfileDocument.canonical("creator", new JsonObject().put("username", "creator").put("links", links));
    List<String> served = new ArrayList<>();
    doc.getJsonArray("links").forEach(l -> served.add(((JsonObject) l).getString("id") + "@" + ((JsonObject) l).getValue("position")));
    long max = (1L << 53) - 1;
    assertEquals(List.of("one@1", "three@3", "huge@" + max, "nine@" + max, "none@" + max), served);
  }

  @Test
  void linksThatAreNotAListAreNoLinks() {
    JsonObject doc = ProfileDocument.canonical("creator", new JsonObject().put("username", "creator").put("links", "nope"));
    assertEquals(0, doc.getJsonArray("links").size(), doc.encode());
  }
}
