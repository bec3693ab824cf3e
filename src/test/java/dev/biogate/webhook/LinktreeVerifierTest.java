package dev.biogate.webhook;

import dev.biogate.config.Secret;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LinktreeVerifierTest {

  private static final Secret RIGHT = Secret.of("whsec_right_linktree_secret");
  private static final Secret WRONG = Secret.of("whsec_wrong_linktree_secret");
  private static final Secret OTHER = Secret.of("whsec_other_linktree_secret");
  private static final long NOW = 1_795_860_000L;
  private static final Buffer BODY =
    Buffer.buffer("{\"type\":\"link.deleted\",\"data\":{\"link_id\":\"lnk_1\",\"deleted_at\":\"2026-11-22T10:00:00Z\"}}");

  private static MultiMap signed(Secret secret, String timestamp, Buffer body) {
    return headers(LinktreeVerifier.sign(secret, timestamp, body), timestamp);
  }

  private static MultiMap headers(String signature, String timestamp) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (signature != null) {
      headers.add(LinktreeVerifier.SIGNATURE_HEADER, signature);
    }
    if (timestamp != null) {
      headers.add(LinktreeVerifier.TIMESTAMP_HEADER, timestamp);
    }
    return headers;
  }

  private static Verdict verify(WebhookVerifier verifier, MultiMap headers, long now) {
    return verifier.verify(headers, BODY, now);
  }

  @Test
  void signProducesTheVectorSignature() {
    WebhookVectors.Vector vector = WebhookVectors.linktree().get(0);
    assertEquals("valid", vector.expect(), "first vector is expected to be a valid one");
    String timestamp = vector.headers().get(LinktreeVerifier.TIMESTAMP_HEADER);
    assertEquals(vector.headers().get(LinktreeVerifier.SIGNATURE_HEADER),
      LinktreeVerifier.sign(Secret.of(vector.secret()), timestamp, vector.body()));
  }

  @Test
  void acceptsWhenAnyRotatedSecretMatchesAndReportsWhichOne() {
    Verdict verdict = verify(new LinktreeVerifier(List.of(WRONG, RIGHT)), signed(RIGHT, Long.toString(NOW), BODY), NOW);
    assertEquals(Verdict.Outcome.VALID, verdict.outcome());
    assertEquals(1, verdict.secretIndex());

    Verdict newest = verify(new LinktreeVerifier(List.of(RIGHT, WRONG)), signed(RIGHT, Long.toString(NOW), BODY), NOW);
    assertEquals(0, newest.secretIndex());
  }

  @Test
  void rejectsWhenNoRotatedSecretMatches() {
    Verdict verdict = verify(new LinktreeVerifier(List.of(WRONG, OTHER)), signed(RIGHT, Long.toString(NOW), BODY), NOW);
    assertEquals(Verdict.Outcome.INVALID, verdict.outcome());
    assertEquals(-1, verdict.secretIndex());
  }

  @Test
  void acceptsTimestampExactlyAtPastToleranceAndRejectsOneSecondOlder() {
    LinktreeVerifier verifier = new LinktreeVerifier(List.of(RIGHT), 600, 60);
    assertEquals(Verdict.Outcome.VALID, verify(verifier, signed(RIGHT, Long.toString(NOW - 600), BODY), NOW).outcome());
    assertEquals(Verdict.Outcome.STALE, verify(verifier, signed(RIGHT, Long.toString(NOW - 601), BODY), NOW).outcome());
  }

  @Test
  void acceptsTimestampExactlyAtFutureToleranceAndRejectsOneSecondLater() {
    LinktreeVerifier verifier = new LinktreeVerifier(List.of(RIGHT), 600, 60);
    assertEquals(Verdict.Outcome.VALID, verify(verifier, signed(RIGHT, Long.toString(NOW + 60), BODY), NOW).outcome());
    assertEquals(Verdict.Outcome.STALE, verify(verifier, signed(RIGHT, Long.toString(NOW + 61), BODY), NOW).outcome());
  }

  @Test
  void defaultWindowIsSeventyThreeHoursBackAndFiveMinutesAheadToTheSecond() {
    LinktreeVerifier verifier = new LinktreeVerifier(List.of(RIGHT));
    long past = 73 * 3600;
    assertEquals(past, LinktreeVerifier.DEFAULT_PAST_TOLERANCE_SECONDS);
    assertEquals(300, LinktreeVerifier.DEFAULT_FUTURE_TOLERANCE_SECONDS);
    assertEquals(Verdict.Outcome.VALID, verify(verifier, signed(RIGHT, Long.toString(NOW - past), BODY), NOW).outcome());
    assertEquals(Verdict.Outcome.STALE, verify(verifier, signed(RIGHT, Long.toString(NOW - past - 1), BODY), NOW).outcome());
    assertEquals(Verdict.Outcome.VALID, verify(verifier, signed(RIGHT, Long.toString(NOW + 300), BODY), NOW).outcome());
    assertEquals(Verdict.Outcome.STALE, verify(verifier, signed(RIGHT, Long.toString(NOW + 301), BODY), NOW).outcome());
  }

  @Test
  void defaultWindowAcceptsARetryWithTheOriginalTimestampUpToTheSeventyTwoHourDisableHorizon() {
    LinktreeVerifier verifier = new LinktreeVerifier(List.of(RIGHT));
    long firstAttempt = NOW;
    long lastScheduledRetry = firstAttempt + 10 + 30 + 90 + 270 + 810;
    long disableHorizon = firstAttempt + 72 * 3600;
    MultiMap original = signed(RIGHT, Long.toString(firstAttempt), BODY);
    assertEquals(Verdict.Outcome.VALID, verify(verifier, original, lastScheduledRetry).outcome());
    assertEquals(Verdict.Outcome.VALID, verify(verifier, original, disableHorizon).outcome());
  }

  @Test
  void missingSignatureHeaderIsMissing() {
    Verdict verdict = verify(new LinktreeVerifier(List.of(RIGHT)), headers(null, Long.toString(NOW)), NOW);
    assertEquals(Verdict.Outcome.MISSING, verdict.outcome());
    assertEquals("missing_signature", verdict.errorCode());
  }

  @Test
  void missingTimestampHeaderIsMissingEvenWithAValidSignature() {
    String signature = LinktreeVerifier.sign(RIGHT, Long.toString(NOW), BODY);
    assertEquals(Verdict.Outcome.MISSING,
      verify(new LinktreeVerifier(List.of(RIGHT)), headers(signature, null), NOW).outcome());
  }

  @Test
  void emptyOrAbsentHeadersAreMissing() {
    LinktreeVerifier verifier = new LinktreeVerifier(List.of(RIGHT));
    assertEquals(Verdict.Outcome.MISSING, verify(verifier, headers(null, null), NOW).outcome());
    assertEquals(Verdict.Outcome.MISSING, verify(verifier, headers("", Long.toString(NOW)), NOW).outcome());
    String signature = LinktreeVerifier.sign(RIGHT, Long.toString(NOW), BODY);
    assertEquals(Verdict.Outcome.MISSING, verify(verifier, headers(signature, ""), NOW).outcome());
  }

  @Test
  void headerNamesAreMatchedCaseInsensitively() {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap()
      .add("X-Linktree-Signature", LinktreeVerifier.sign(RIGHT, Long.toString(NOW), BODY))
      .add("X-LINKTREE-TIMESTAMP", Long.toString(NOW));
    assertEquals(Verdict.Outcome.VALID, verify(new LinktreeVerifier(List.of(RIGHT)), headers, NOW).outcome());
  }

  /** Each of these is genuinely signed, so only the timestamp rule can reject it. */
  @ParameterizedTest
  @ValueSource(strings = {
    "17958600x0", "+1795860000", "-1795860000", " 1795860000", "1795860000 ", "1795860000.0", "1.79586e9",
    "0001795860000", "\u0661\u0667\u0669\u0665\u0668\u0666\u0660\u0660\u0660\u0660", "now"})
  void correctlySignedTimestampThatIsNotOneToTwelveAsciiDigitsIsStale(String timestamp) {
    Verdict verdict = verify(new LinktreeVerifier(List.of(RIGHT)), signed(RIGHT, timestamp, BODY), NOW);
    assertEquals(Verdict.Outcome.STALE, verdict.outcome());
    assertEquals("stale_timestamp", verdict.errorCode());
  }

  @Test
  void timestampWithLeadingZerosWithinTwelveDigitsIsAccepted() {
    String timestamp = "0" + NOW; // 11 digits, same instant
    assertEquals(Verdict.Outcome.VALID,
      verify(new LinktreeVerifier(List.of(RIGHT)), signed(RIGHT, timestamp, BODY), NOW).outcome());
  }

  @Test
  void signatureIsCheckedBeforeTheTimestampSoUnsignedRequestsLearnNothingAboutTheWindow() {
    LinktreeVerifier verifier = new LinktreeVerifier(List.of(RIGHT));
    String stale = Long.toString(NOW - 30 * 24 * 3600);
    Verdict staleButForged = verify(verifier, signed(WRONG, stale, BODY), NOW);
    assertEquals(Verdict.Outcome.INVALID, staleButForged.outcome());
    assertEquals("invalid_signature", staleButForged.errorCode());
    assertEquals(Verdict.Outcome.INVALID, verify(verifier, signed(WRONG, "not-a-time", BODY), NOW).outcome());
  }

  @Test
  void signatureOverAnotherTimestampIsInvalid() {
    MultiMap headers = headers(LinktreeVerifier.sign(RIGHT, Long.toString(NOW), BODY), Long.toString(NOW - 1));
    assertEquals(Verdict.Outcome.INVALID, verify(new LinktreeVerifier(List.of(RIGHT)), headers, NOW).outcome());
  }

  @Test
  void signatureOfWrongLengthIsInvalid() {
    LinktreeVerifier verifier = new LinktreeVerifier(List.of(RIGHT));
    String good = LinktreeVerifier.sign(RIGHT, Long.toString(NOW), BODY);
    assertEquals(64, good.length());
    for (String bad : List.of(good.substring(0, 63), good + "0", good + good, good.substring(0, 32), "0")) {
      Verdict verdict = verify(verifier, headers(bad, Long.toString(NOW)), NOW);
      assertEquals(Verdict.Outcome.INVALID, verdict.outcome(), "length " + bad.length());
      }
  }

  @Test
  void nonHexSignatureOfTheRightLengthIsInvalid() {
    LinktreeVerifier verifier = new LinktreeVerifier(List.of(RIGHT));
    String good = LinktreeVerifier.sign(RIGHT, Long.toString(NOW), BODY);
    String withPrefix = "sha256=" + good.substring(7);
    assertEquals(Verdict.Outcome.INVALID, verify(verifier, headers(withPrefix, Long.toString(NOW)), NOW).outcome());
    assertEquals(Verdict.Outcome.INVALID, verify(verifier, headers("z".repeat(64), Long.toString(NOW)), NOW).outcome());
  }

  @Test
  void emptyBodyCanBeSignedAndVerified() {
    Buffer empty = Buffer.buffer();
    MultiMap headers = headers(LinktreeVerifier.sign(RIGHT, Long.toString(NOW), empty), Long.toString(NOW));
    assertEquals(Verdict.Outcome.VALID, new LinktreeVerifier(List.of(RIGHT)).verify(headers, empty, NOW).outcome());
  }

  @Test
  void verifiesCorrectlyFromManyThreadsAtOnce() throws Exception {
    LinktreeVerifier verifier = new LinktreeVerifier(List.of(WRONG, RIGHT));
    int threads = 8;
    int perThread = 2_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        results.add(pool.submit(() -> {
          int wrong = 0;
          for (int i = 0; i < perThread; i++) {
            Buffer body = Buffer.buffer("{\"thread\":" + thread + ",\"i\":" + i + "}");
            String ts = Long.toString(NOW - i);
            boolean forge = i % 3 == 0;
            MultiMap headers = headers(LinktreeVerifier.sign(forge ? OTHER : RIGHT, ts, body), ts);
            Verdict.Outcome expected = forge ? Verdict.Outcome.INVALID : Verdict.Outcome.VALID;
            if (verifier.verify(headers, body, NOW).outcome() != expected) {
              wrong++;
            }
          }
          return wrong;
        }));
      }
      for (Future<Integer> result : results) {
        assertEquals(0, result.get());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void rejectsConfigurationWithoutUsableSecretsOrWithNegativeTolerance() {
    assertThrows(IllegalArgumentException.class, () -> new LinktreeVerifier(List.of()));
    assertThrows(IllegalArgumentException.class, () -> new LinktreeVerifier(null));
    List<Secret> withEmptyEntry = new ArrayList<>();
    withEmptyEntry.add(RIGHT);
    withEmptyEntry.add(Secret.of("")); // null: what an empty entry in "a,,b" becomes
    assertThrows(IllegalArgumentException.class, () -> new LinktreeVerifier(withEmptyEntry));
    assertThrows(IllegalArgumentException.class, () -> new LinktreeVerifier(List.of(RIGHT), -1, 300));
    assertThrows(IllegalArgumentException.class, () -> new LinktreeVerifier(List.of(RIGHT), 600, -1));
  }
}
