package dev.biogate.webhook;

import dev.biogate.http.ApiException;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The Linktree envelope scan reads only what ingestion needs, and refuses what a full JSON parse would refuse. */
class EnvelopesTest {

  @Test
  void readsTheTypeOfAnEventWithAnObjectData() {
    assertEquals("link.updated", Envelopes.linktreeType(json("{\"data\":{\"a\":[1,{\"type\":\"x\"}]},\"type\":\"link.updated\"}")));
    assertEquals("b", Envelopes.linktreeType(json("{\"type\":\"a\",\"data\":{},\"type\":\"b\"}")), "the last of a repeated field");
  }

  @Test
  void hasNoTypeWithoutAStringTypeAndAnObjectData() {
    assertNull(Envelopes.linktreeType(json("{\"type\":1,\"data\":{}}")));
    assertNull(Envelopes.linktreeType(json("{\"type\":\"a\",\"data\":[]}")));
    assertNull(Envelopes.linktreeType(json("{\"type\":\"a\"}")));
    assertNull(Envelopes.linktreeType(json("{\"type\":\"a\",\"data\":{},\"data\":null}")));
  }

  /**
   * An object nested beyond the parser's depth limit is refused as such, not as "not a JSON object": an attack pass
   * saw a signed body nested 1,000 deep described as not an object.
   */
  @Test
  void aBodyBeyondTheParsersLimitsIsSaidToBe() {
    String deep = "{\"type\":\"a\",\"data\":" + "{\"x\":".repeat(1_200) + "1" + "}".repeat(1_200) + "}";
    ApiException e = assertThrows(ApiException.class, () -> Envelopes.linktreeType(json(deep)));
    assertSame(Envelopes.BEYOND_LIMITS, e);
    assertEquals(400, e.status());
    assertEquals("malformed_json", e.code());
  }

  @Test
  void refusesAnythingButOneWellFormedJsonObject() {
    String[] bad = {"", "[]", "\"x\"", "{", "{\"type\":\"a\",\"data\":{}", "{\"type\":\"a\",\"data\":{}} {}",
      "{\"type\":\"a\",\"data\":{}}x", "{\"type\":\"a\",\"data\":{\"b\":}}", "{'type':'a'}", "{\"data\":{\"x\":NaN},\"type\":\"a\"}",
      "[".repeat(100_000)};
    for (String b : bad) {
      ApiException e = assertThrows(ApiException.class, () -> Envelopes.linktreeType(json(b)), b.length() > 60 ? "deep" : b);
      assertSame(Envelopes.MALFORMED, e);
    }
  }

  @Test
  void refusesInvalidUtf8EvenInsideAValueItSkips() {
    Buffer body = Buffer.buffer("{\"type\":\"a\",\"data\":{\"t\":\"").appendBytes(new byte[] {(byte) 0xC3, (byte) 0x28})
      .appendString("\"}}");
    assertThrows(ApiException.class, () -> Envelopes.linktreeType(body));
  }

  /**
   * A LinkMe envelope id is a string of visible ASCII, or an integer read as its decimal digits. An attack pass found
   * any JSON number accepted, where the docs promised the string form: {@code 5.0} or {@code 1e3} are not ids.
   */
  @Test
  void aLinkMeIdIsAStringOrAnInteger() {
    assertEquals("evt-1", Envelopes.linkme(json("{\"id\":\"evt-1\",\"event\":\"link.click\",\"data\":{}}")).id);
    assertEquals("5", Envelopes.linkme(json("{\"id\":5,\"event\":\"link.click\",\"data\":{}}")).id);
    assertEquals("123456789012345678901234567890",
      Envelopes.linkme(json("{\"id\":123456789012345678901234567890,\"event\":\"link.click\",\"data\":{}}")).id);
    for (String id : new String[] {"5.0", "1e3", "true", "null", "{}", "[\"a\"]", "\"\"", "\"a b\"", "\"" + "x".repeat(201) + "\""}) {
      ApiException e = assertThrows(ApiException.class,
        () -> Envelopes.linkme(json("{\"id\":" + id + ",\"event\":\"link.click\",\"data\":{}}")), id);
      assertSame(Envelopes.LINKME_FIELDS, e, id);
    }
  }

  private static Buffer json(String s) {
    return Buffer.buffer(s.getBytes(StandardCharsets.UTF_8));
  }
}
