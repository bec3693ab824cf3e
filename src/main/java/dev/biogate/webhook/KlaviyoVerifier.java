package dev.biogate.webhook;

import dev.biogate.config.Secret;
import dev.biogate.crypto.HmacSha256;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Verifies Klaviyo system webhooks: {@code Klaviyo-Signature} is the lowercase hex HMAC-SHA256, keyed with the
 * secret's UTF-8 bytes, of the raw body bytes immediately followed by the {@code Klaviyo-Timestamp} header value
 * (no separator). Any configured secret may match (rotation).
 * <p>
 * Checks in the order of {@link LinktreeVerifier}, for the same reasons: an absent or empty signature, timestamp or
 * webhook id header gives {@link Verdict#MISSING}; then the signature ({@link Verdict#INVALID}), so nobody without a secret can
 * probe the clock; only then the timestamp, Unix seconds (or milliseconds, 13 digits) within the window, else
 * {@link Verdict#STALE}. The {@code Klaviyo-Webhook-Id} header is not signed; the route compares it with the signed
 * {@code meta.klaviyo_webhook_id}.
 */
public final class KlaviyoVerifier extends TimestampedHmacVerifier {

  public static final String SIGNATURE_HEADER = "Klaviyo-Signature";
  public static final String TIMESTAMP_HEADER = "Klaviyo-Timestamp";
  public static final String WEBHOOK_ID_HEADER = "Klaviyo-Webhook-Id";

  /** Unix seconds in up to 12 digits, or milliseconds in 13. */
  private static final int MAX_TIMESTAMP_DIGITS = 13;

  /**
   * @param secrets                signing secrets, newest first by convention; all are accepted
   * @param pastToleranceSeconds   how old a timestamp may be (inclusive)
   * @param futureToleranceSeconds how far ahead a timestamp may be (inclusive)
   */
  public KlaviyoVerifier(List<Secret> secrets, long pastToleranceSeconds, long futureToleranceSeconds) {
    super(secrets, pastToleranceSeconds, futureToleranceSeconds);
  }

  @Override
  public Verdict verify(MultiMap headers, Buffer rawBody, long nowEpochSeconds) {
    String signature = headers.get(SIGNATURE_HEADER);
    String timestamp = headers.get(TIMESTAMP_HEADER);
    String webhookId = headers.get(WEBHOOK_ID_HEADER);
    if (signature == null || signature.isEmpty() || timestamp == null || timestamp.isEmpty()
      || webhookId == null || webhookId.isEmpty()) {
      return Verdict.MISSING;
    }
    byte[] presented = presented(signature);
    if (presented == null) {
      return Verdict.INVALID;
    }
    // HMAC over "prefix then body" is HMAC over the concatenation: here the body is the prefix, the timestamp follows.
    int index = hmac.match(rawBody.getBytes(), timestamp.getBytes(StandardCharsets.ISO_8859_1), presented);
    if (index < 0) {
      return Verdict.INVALID;
    }
    long value = SignedTimestamp.digits(timestamp, MAX_TIMESTAMP_DIGITS);
    long signedAt = value >= 0 && timestamp.length() == MAX_TIMESTAMP_DIGITS ? value / 1000 : value;
    return window.verdict(index, signedAt, nowEpochSeconds);
  }

  /** The {@value #SIGNATURE_HEADER} value for {@code body} sent with {@code timestamp}: for tests, tools and the sandbox. */
  public static String sign(Secret secret, String timestamp, Buffer body) {
    return HmacSha256.sign(secret, body.getBytes(), timestamp.getBytes(StandardCharsets.ISO_8859_1));
  }
}
