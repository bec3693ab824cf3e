package dev.biogate.webhook;

import dev.biogate.config.Secret;
import dev.biogate.crypto.HmacSha256;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What the timestamped HMAC schemes (Linktree, Klaviyo) share: the signing secrets, any of which may match (rotation),
 * the window a signed timestamp must lie in, the shape of a presented signature (lowercase hex HMAC-SHA256), and the
 * order of the checks. Absent or empty headers give {@link Verdict#MISSING}; then the signature
 * ({@link Verdict#INVALID}), so a caller who does not hold a secret cannot probe the clock or the window; only a
 * correctly signed delivery is checked for its timestamp ({@link Verdict#STALE}). A scheme says only which bytes are
 * signed and how its timestamp reads.
 */
abstract class TimestampedHmacVerifier implements WebhookVerifier {

  final HmacSha256 hmac;
  final SignedTimestamp window;
  private final String signatureHeader;
  private final String timestampHeader;

  TimestampedHmacVerifier(String signatureHeader, String timestampHeader, List<Secret> secrets, long pastToleranceSeconds,
                          long futureToleranceSeconds) {
    this.signatureHeader = signatureHeader;
    this.timestampHeader = timestampHeader;
    this.window = new SignedTimestamp(pastToleranceSeconds, futureToleranceSeconds);
    this.hmac = new HmacSha256(secrets);
  }

  @Override
  public final Verdict screen(MultiMap headers) {
    String signature = headers.get(signatureHeader);
    String timestamp = headers.get(timestampHeader);
    if (signature == null || signature.isEmpty() || timestamp == null || timestamp.isEmpty() || !otherHeadersPresent(headers)) {
      return Verdict.MISSING;
    }
    return presented(signature) == null ? Verdict.INVALID : null;
  }

  @Override
  public final Verdict verify(MultiMap headers, Buffer rawBody, long nowEpochSeconds) {
    Verdict onHead = screen(headers);
    if (onHead != null) {
      return onHead;
    }
    String timestamp = headers.get(timestampHeader);
    int index = match(timestamp, rawBody.getBytes(), presented(headers.get(signatureHeader)));
    if (index < 0) {
      return Verdict.INVALID;
    }
    return window.verdict(index, signedAt(timestamp), nowEpochSeconds);
  }

  /** Whether the scheme's other required headers are present and non-empty (none by default). */
  boolean otherHeadersPresent(MultiMap headers) {
    return true;
  }

  /** The index of the secret whose HMAC over this scheme's signed bytes is {@code presented}, or -1. */
  abstract int match(String timestamp, byte[] body, byte[] presented);

  /** The signed timestamp in Unix seconds, or -1 when it is unreadable. */
  abstract long signedAt(String timestamp);

  /**
   * The bytes of a presented hex signature, or {@code null} when its length cannot be one. Header values are
   * ISO-8859-1 decoded from the wire, so this gives back the bytes the sender sent.
   */
  static byte[] presented(String signature) {
    byte[] presented = signature.getBytes(StandardCharsets.ISO_8859_1);
    return presented.length == HmacSha256.HEX_LENGTH ? presented : null;
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[secrets=" + hmac.size() + ", " + window + "]";
  }
}
