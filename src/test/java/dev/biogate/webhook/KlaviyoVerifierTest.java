package dev.biogate.webhook;

import dev.biogate.config.Secret;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class KlaviyoVerifierTest {

  private static final Secret SECRET = Secret.of("klaviyo-test-secret");
  private static final Secret OLD = Secret.of("klaviyo-old-secret");
  private static final String TS = "1764763200";
  private static final Buffer BODY = Buffer.buffer("{\"data\":[{\"topic\":\"event:klaviyo.clicked_email\",\"external_id\":"
    + "\"evt-1\",\"payload\":{\"email\":\"a@example.com\"}}],\"meta\":{\"klaviyo_account_id\":\"acct\","
    + "\"klaviyo_webhook_id\":\"wh-1\",\"timestamp\":\"2026-12-03T12:00:00Z\"}}");
  /** HMAC-SHA256("klaviyo-test-secret", BODY bytes followed by "1764763200"), computed outside Java (Python hmac). */
  private static final String VECTOR = "7df19be48a64613c3ac0fd392e9eee6601f744c6bb703875a721a512799dd86d";

  private static MultiMap headers(String signature, String ts, String webhookId) {
    MultiMap h = MultiMap.caseInsensitiveMultiMap();
    if (signature != null) {
      h.add(KlaviyoVerifier.SIGNATURE_HEADER, signature);
    }
    if (ts != null) {
      h.add(KlaviyoVerifier.TIMESTAMP_HEADER, ts);
    }
    if (webhookId != null) {
      h.add(KlaviyoVerifier.WEBHOOK_ID_HEADER, webhookId);
    }
    return h;
  }

  private static Verdict verify(MultiMap headers, Buffer body, long now) {
    return new KlaviyoVerifier(List.of(SECRET, OLD), 3600, 300).verify(headers, body, now);
  }

  @Test
  void signsTheBodyFollowedByTheTimestamp() {
    assertEquals(VECTOR, KlaviyoVerifier.sign(SECRET, TS, BODY));
  }

  @Test
  void acceptsTheVectorWithEitherRotatedSecret() {
    assertEquals(Verdict.valid(0), verify(headers(VECTOR, TS, "wh-1"), BODY, 1764763200L));
    String old = KlaviyoVerifier.sign(OLD, TS, BODY);
    assertEquals(Verdict.valid(1), verify(headers(old, TS, "wh-1"), BODY, 1764763200L));
  }

  @Test
  void missingHeadersAreMissing() {
    assertEquals(Verdict.MISSING, verify(headers(null, TS, "wh-1"), BODY, 1764763200L));
    assertEquals(Verdict.MISSING, verify(headers(VECTOR, null, "wh-1"), BODY, 1764763200L));
    assertEquals(Verdict.MISSING, verify(headers(VECTOR, TS, null), BODY, 1764763200L));
    assertEquals(Verdict.MISSING, verify(headers("", TS, "wh-1"), BODY, 1764763200L));
  }

  @Test
  void tamperedBodyTimestampOrSignatureIsInvalid() {
    Buffer tampered = Buffer.buffer(BODY.toString().replace("evt-1", "evt-2"));
    assertEquals(Verdict.INVALID, verify(headers(VECTOR, TS, "wh-1"), tampered, 1764763200L));
    assertEquals(Verdict.INVALID, verify(headers(VECTOR, "1764763201", "wh-1"), BODY, 1764763201L));
    assertEquals(Verdict.INVALID, verify(headers(VECTOR.toUpperCase(), TS, "wh-1"), BODY, 1764763200L));
    assertEquals(Verdict.INVALID, verify(headers(VECTOR.substring(1), TS, "wh-1"), BODY, 1764763200L));
  }

  @Test
  void correctlySignedButOldTimestampIsStale() {
    assertEquals(Verdict.valid(0), verify(headers(VECTOR, TS, "wh-1"), BODY, 1764763200L + 3600));
    assertEquals(Verdict.STALE, verify(headers(VECTOR, TS, "wh-1"), BODY, 1764763200L + 3601));
    assertEquals(Verdict.STALE, verify(headers(VECTOR, TS, "wh-1"), BODY, 1764763200L - 301));
  }
  /** A 13-digit timestamp is milliseconds: signed as sent, its window read in seconds. */
  @Test
  void aMillisecondTimestampIsReadAsSeconds() {
    String ms = "1764763200500";
    String signature = KlaviyoVerifier.sign(SECRET, ms, BODY);
    assertEquals(Verdict.valid(0), verify(headers(signature, ms, "wh-1"), BODY, 1764763200L));
    assertEquals(Verdict.valid(0), verify(headers(signature, ms, "wh-1"), BODY, 1764763200L + 3600));
    assertEquals(Verdict.STALE, verify(headers(signature, ms, "wh-1"), BODY, 1764763200L + 3601));
    assertEquals(Verdict.STALE, verify(headers(signature, ms, "wh-1"), BODY, 1764763200L - 301));
    // The signature covers the digits as sent: the same instant in seconds is another signed text.
    assertEquals(Verdict.INVALID, verify(headers(signature, TS, "wh-1"), BODY, 1764763200L));
    // Fourteen digits are neither seconds nor milliseconds.
    String tooLong = "17647632005000";
    assertEquals(Verdict.STALE, verify(headers(KlaviyoVerifier.sign(SECRET, tooLong, BODY), tooLong, "wh-1"), BODY, 1764763200L));
  }
}
