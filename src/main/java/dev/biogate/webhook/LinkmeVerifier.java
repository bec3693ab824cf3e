package dev.biogate.webhook;

import dev.biogate.crypto.HmacSha256;
import dev.biogate.config.Secret;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Verifies LinkMe deliveries (format in docs/webhooks.md): {@code X-LinkMe-Signature: sha256=<hex>}, the lowercase hex
 * HMAC-SHA256 of the raw body, keyed with the secret's UTF-8 bytes. Any configured secret may match (rotation).
 * An absent or empty header gives {@link Verdict#MISSING}; a value without the {@code sha256=} prefix, of the
 * wrong length, or matching no secret gives {@link Verdict#INVALID}.
 * <p>
 * The scheme signs no timestamp (the envelope's {@code ts} is only inside the body), so this verifier never
 * returns {@link Verdict#STALE} and ignores the clock. Replay protection rests entirely on deduplicating the
 * envelope {@code id}, which is covered by the signature.
 */
public final class LinkmeVerifier implements WebhookVerifier {

  public static final String SIGNATURE_HEADER = "X-LinkMe-Signature";
  public static final String SIGNATURE_PREFIX = "sha256=";

  private static final byte[] NO_PREFIX = new byte[0];

  private final HmacSha256 hmac;

  /** @param secrets signing secrets, newest first by convention; all are accepted */
  public LinkmeVerifier(List<Secret> secrets) {
    this.hmac = new HmacSha256(secrets);
  }

  @Override
  public Verdict screen(MultiMap headers) {
    String header = headers.get(SIGNATURE_HEADER);
    if (header == null || header.isEmpty()) {
      return Verdict.MISSING;
    }
    return header.startsWith(SIGNATURE_PREFIX) && header.length() == SIGNATURE_PREFIX.length() + HmacSha256.HEX_LENGTH
      ? null : Verdict.INVALID;
  }

  @Override
  public Verdict verify(MultiMap headers, Buffer rawBody, long nowEpochSeconds) {
    Verdict onHead = screen(headers);
    if (onHead != null) {
      return onHead;
    }
    String header = headers.get(SIGNATURE_HEADER);
    // Header values are ISO-8859-1 decoded from the wire, so this gives back the bytes the sender sent.
    byte[] presented = header.substring(SIGNATURE_PREFIX.length()).getBytes(StandardCharsets.ISO_8859_1);
    int index = hmac.match(NO_PREFIX, rawBody.getBytes(), presented);
    return index < 0 ? Verdict.INVALID : Verdict.valid(index);
  }

  /** The full {@value #SIGNATURE_HEADER} value ({@code sha256=<hex>}) for {@code body}: for tests and tools. */
  public static String sign(Secret secret, Buffer body) {
    return SIGNATURE_PREFIX + HmacSha256.sign(secret, NO_PREFIX, body.getBytes());
  }

  @Override
  public String toString() {
    return "LinkmeVerifier[secrets=" + hmac.size() + "]";
  }
}
