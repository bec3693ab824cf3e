package dev.biogate.links;

import dev.biogate.http.ApiException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** How a link batch's operations are read and refused. */
class LinkBatchTest {

  private static JsonArray create(String title) {
    return new JsonArray().add(new JsonObject().put("op", "create").put("title", title).put("url", "https://example.com/"));
  }

  /**
   * A title is at most 256 characters, as the refusal says: a re-drill found 129 emoji refused, counted as the 258
   * UTF-16 units Java stores them in.
   */
  @Test
  void aTitleIsMeasuredInCharacters() {
    String emoji = "\uD83D\uDE00";
    assertEquals(emoji.repeat(256), LinkBatch.parse(create(emoji.repeat(256)).toBuffer()).get(0).title());
    assertEquals("invalid_operation", assertThrows(ApiException.class, () -> LinkBatch.parse(create(emoji.repeat(257)).toBuffer())).code());
    assertEquals("invalid_operation", assertThrows(ApiException.class, () -> LinkBatch.parse(create("a".repeat(257)).toBuffer())).code());
  }
}
