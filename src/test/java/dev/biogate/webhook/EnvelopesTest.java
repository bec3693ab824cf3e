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

  private static Buffer json(String s) {
    return Buffer.buffer(s.getBytes(StandardCharsets.UTF_8));
  }
}
