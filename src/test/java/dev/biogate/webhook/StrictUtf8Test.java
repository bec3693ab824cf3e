package dev.biogate.webhook;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The body check that runs on every webhook decides exactly as the JDK's strict UTF-8 decoder (plus "no NUL byte"),
 * without decoding: on every sequence of up to two bytes, on
 * three- and four-byte sequences made of the edges of every range, and on random bodies.
 */
class StrictUtf8Test {

  @Test
  void agreesWithTheJdkDecoderOnEverySequenceOfUpToTwoBytes() {
    byte[] one = new byte[1];
    byte[] two = new byte[2];
    for (int a = 0; a < 256; a++) {
      one[0] = (byte) a;
      check(one);
      two[0] = (byte) a;
      for (int b = 0; b < 256; b++) {
        two[1] = (byte) b;
        check(two);
      }
    }
  }

  @Test
  void agreesOnThreeAndFourByteSequencesAtEveryEdge() {
    int[] edges = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec,
      0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff};
    byte[] three = new byte[3];
    byte[] four = new byte[4];
    for (int a : edges) {
      for (int b : edges) {
        for (int c : edges) {
          three[0] = (byte) a;
          three[1] = (byte) b;
          three[2] = (byte) c;
          check(three);
          for (int d : edges) {
            four[0] = (byte) a;
            four[1] = (byte) b;
            four[2] = (byte) c;
            four[3] = (byte) d;
            check(four);
          }
        }
      }
    }
  }

  @Test
  void agreesOnRandomBodiesMostlyValid() {
    Random random = new Random(42);
    String alphabet = "a\u00e9\u20ac\ud83d\ude00\u0800\uffff\ud7ff\ue000";
    for (int n = 0; n < 20_000; n++) {
      StringBuilder text = new StringBuilder();
      for (int i = random.nextInt(40); i > 0; i--) {
        int at = random.nextInt(alphabet.length() - 1);
        text.append(Character.isHighSurrogate(alphabet.charAt(at)) ? alphabet.substring(at, at + 2)
          : Character.isLowSurrogate(alphabet.charAt(at)) ? "b" : alphabet.substring(at, at + 1));
      }
      byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
      if (bytes.length > 0 && random.nextInt(3) == 0) {
        bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);   // one byte damaged
      }
      check(bytes);
    }
  }

  @Test
  void knownCases() {
    assertTrue(WebhookRoutes.strictUtf8("{\"a\":\"caf\u00e9 \ud83d\ude00\"}".getBytes(StandardCharsets.UTF_8)));
    assertFalse(WebhookRoutes.strictUtf8(new byte[] {'{', 0, '}'}), "NUL");
    assertFalse(WebhookRoutes.strictUtf8(new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}), "CESU-8 surrogate");
    assertFalse(WebhookRoutes.strictUtf8(new byte[] {(byte) 0xc0, (byte) 0xaf}), "overlong /");
    assertFalse(WebhookRoutes.strictUtf8(new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}), "above U+10FFFF");
    assertFalse(WebhookRoutes.strictUtf8(new byte[] {(byte) 0xe2, (byte) 0x82}), "truncated");
  }

  private static void check(byte[] bytes) {
    assertEquals(jdk(bytes), WebhookRoutes.strictUtf8(bytes), () -> hex(bytes));
  }

  private static boolean jdk(byte[] bytes) {
    for (byte b : bytes) {
      if (b == 0) {
        return false;
      }
    }
    try {
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  private static String hex(byte[] bytes) {
    StringBuilder b = new StringBuilder();
    for (byte x : bytes) {
      b.append(String.format("%02x ", x & 0xff));
    }
    return b.toString();
  }
}
