package dev.biogate.webhook;

import dev.biogate.config.Secret;
import dev.biogate.crypto.HmacSha256;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What the timestamped HMAC schemes (Linktree, Klaviyo) share: the signing secrets, any of which may match (rotation),
 * the window a signed timestamp must lie in, and the shape of a presented signature (lowercase hex HMAC-SHA256).
 */
abstract class TimestampedHmacVerifier implements WebhookVerifier {

  final HmacSha256 hmac;
  final SignedTimestamp window;

  TimestampedHmacVerifier(List<Secret> secrets, long pastToleranceSeconds, long futureToleranceSeconds) {
    this.window = new SignedTimestamp(pastToleranceSeconds, futureToleranceSeconds);
    this.hmac = new HmacSha256(secrets);
  }

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
