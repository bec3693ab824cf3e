package dev.biogate.webhook;

import dev.biogate.config.Secret;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LinkmeVerifierTest {

  private static final Secret RIGHT = Secret.of("lm_right_secret");
  private static final Secret WRONG = Secret.of("lm_wrong_secret");
  private static final Secret OTHER = Secret.of("lm_other_secret");
  private static final Buffer BODY = Buffer.buffer(
    "{\"id\":\"0b6f\",\"event\":\"link.claim\",\"ts\":\"2026-02-11T12:34:56.789Z\",\"app_id\":\"app_1\",\"data\":{}}");

  private static MultiMap headers(String value) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (value != null) {
      headers.add(LinkmeVerifier.SIGNATURE_HEADER, value);
    }
    return headers;
  }

  private static Verdict verify(List<Secret> secrets, String header) {
    return new LinkmeVerifier(secrets).verify(headers(header), BODY, 0);
  }

  @Test
  void signProducesTheVectorHeaderValue() {
    WebhookVectors.Vector vector = WebhookVectors.linkme().get(0);
    assertEquals("valid", vector.expect(), "first vector is expected to be a valid one");
    assertEquals(vector.headers().get(LinkmeVerifier.SIGNATURE_HEADER),
      LinkmeVerifier.sign(Secret.of(vector.secret()), vector.body()));
  }

  @Test
  void acceptsWhenAnyRotatedSecretMatchesAndReportsWhichOne() {
    Verdict verdict = verify(List.of(WRONG, RIGHT), LinkmeVerifier.sign(RIGHT, BODY));
    assertEquals(Verdict.Outcome.VALID, verdict.outcome());
    assertEquals(1, verdict.secretIndex());
    assertEquals(0, verify(List.of(RIGHT, WRONG), LinkmeVerifier.sign(RIGHT, BODY)).secretIndex());
  }

  @Test
  void rejectsWhenNoRotatedSecretMatches() {
    Verdict verdict = verify(List.of(WRONG, OTHER), LinkmeVerifier.sign(RIGHT, BODY));
    assertEquals(Verdict.Outcome.INVALID, verdict.outcome());
    assertEquals("invalid_signature", verdict.errorCode());
  }

  @Test
  void missingOrEmptySignatureHeaderIsMissing() {
    Verdict absent = verify(List.of(RIGHT), null);
    assertEquals(Verdict.Outcome.MISSING, absent.outcome());
    assertEquals("missing_signature", absent.errorCode());
    assertEquals(Verdict.Outcome.MISSING, verify(List.of(RIGHT), "").outcome());
  }

  @Test
  void signatureWithoutTheExactSha256PrefixIsInvalid() {
    String hex = LinkmeVerifier.sign(RIGHT, BODY).substring(LinkmeVerifier.SIGNATURE_PREFIX.length());
    for (String bad : List.of(hex, "SHA256=" + hex, "sha256:" + hex, "sha1=" + hex, " sha256=" + hex, "sha256=")) {
      assertEquals(Verdict.Outcome.INVALID, verify(List.of(RIGHT), bad).outcome(), bad);
    }
  }

  @Test
  void uppercaseHexIsInvalid() {
    String hex = LinkmeVerifier.sign(RIGHT, BODY).substring(LinkmeVerifier.SIGNATURE_PREFIX.length());
    assertEquals(Verdict.Outcome.INVALID, verify(List.of(RIGHT), "sha256=" + hex.toUpperCase()).outcome());
  }

  @Test
  void signatureOfWrongLengthIsInvalid() {
    String good = LinkmeVerifier.sign(RIGHT, BODY);
    for (String bad : List.of(good.substring(0, good.length() - 1), good + "0", good + ",sha256=" + good.substring(7))) {
      assertEquals(Verdict.Outcome.INVALID, verify(List.of(RIGHT), bad).outcome(), "length " + bad.length());
    }
  }

  @Test
  void ignoresTheClockBecauseTheSchemeSignsNoTimestamp() {
    LinkmeVerifier verifier = new LinkmeVerifier(List.of(RIGHT));
    MultiMap headers = headers(LinkmeVerifier.sign(RIGHT, BODY));
    for (long now : new long[] {0, 1_795_860_000L, Long.MAX_VALUE, Long.MIN_VALUE}) {
      assertEquals(Verdict.Outcome.VALID, verifier.verify(headers, BODY, now).outcome(), "now=" + now);
    }
  }

  @Test
  void headerNameIsMatchedCaseInsensitively() {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("x-linkme-signature", LinkmeVerifier.sign(RIGHT, BODY));
    assertEquals(Verdict.Outcome.VALID, new LinkmeVerifier(List.of(RIGHT)).verify(headers, BODY, 0).outcome());
  }

  @Test
  void anyChangeToTheRawBodyIsInvalid() {
    String header = LinkmeVerifier.sign(RIGHT, BODY);
    Buffer reformatted = Buffer.buffer(BODY.toJsonObject().encodePrettily());
    assertEquals(Verdict.Outcome.INVALID,
      new LinkmeVerifier(List.of(RIGHT)).verify(headers(header), reformatted, 0).outcome());
  }

  @Test
  void rejectsConfigurationWithoutUsableSecrets() {
    assertThrows(IllegalArgumentException.class, () -> new LinkmeVerifier(List.of()));
    assertThrows(IllegalArgumentException.class, () -> new LinkmeVerifier(null));
    assertThrows(IllegalArgumentException.class, () -> new LinkmeVerifier(java.util.Arrays.asList(RIGHT, null)));
  }
}
