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
 * Checks in the order every timestamped scheme shares ({@link TimestampedHmacVerifier}): an absent or empty signature,
 * timestamp or webhook id header gives {@link Verdict#MISSING}; then the signature ({@link Verdict#INVALID}), so nobody
 * without a secret can probe the clock; only then the timestamp, Unix seconds (or milliseconds, 13 digits) within the
 * window, else {@link Verdict#STALE}. The {@code Klaviyo-Webhook-Id} header is not signed; the route compares it with the signed
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
    super(SIGNATURE_HEADER, TIMESTAMP_HEADER, secrets, pastToleranceSeconds, futureToleranceSeconds);
  }

  @Override
  boolean otherHeadersPresent(MultiMap headers) {
    String webhookId = headers.get(WEBHOOK_ID_HEADER);
    return webhookId != null && !webhookId.isEmpty();
  }

  // HMAC over "prefix then body" is HMAC over the concatenation: here the body is the prefix, the timestamp follows.
  @Override
  int match(String timestamp, byte[] body, byte[] presented) {
    return hmac.match(body, timestamp.getBytes(StandardCharsets.ISO_8859_1), presented);
  }

  @Override
  long signedAt(String timestamp) {
    long value = SignedTimestamp.digits(timestamp, MAX_TIMESTAMP_DIGITS);
    return value >= 0 && timestamp.length() == MAX_TIMESTAMP_DIGITS ? value / 1000 : value;
  }

  /** The {@value #SIGNATURE_HEADER} value for {@code body} sent with {@code timestamp}: for tests, tools and the sandbox. */
  public static String sign(Secret secret, String timestamp, Buffer body) {
    return HmacSha256.sign(secret, body.getBytes(), timestamp.getBytes(StandardCharsets.ISO_8859_1));
  }
}
