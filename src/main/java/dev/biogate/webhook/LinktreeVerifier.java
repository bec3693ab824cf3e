package dev.biogate.webhook;

import dev.biogate.crypto.HmacSha256;
import dev.biogate.config.Secret;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Verifies Linktree deliveries (format in docs/webhooks.md): {@code x-linktree-signature} is the lowercase hex
 * HMAC-SHA256, keyed with the secret's UTF-8 bytes, of the bytes {@code <x-linktree-timestamp>.<raw body>};
 * the timestamp is Unix seconds. Any configured secret may match (rotation). Uppercase hex is not the scheme
 * and is rejected.
 * <p>
 * Order of checks, and why (see {@link TimestampedHmacVerifier}): absent or empty headers give {@link Verdict#MISSING};
 * then the signature, so a caller who does not hold a secret only ever learns {@link Verdict#INVALID} and cannot probe
 * the clock or the window; only a correctly signed delivery is then checked for its timestamp, which must be 1 to 12
 * ASCII digits (no sign, no spaces) and lie within the window, else {@link Verdict#STALE}. A malformed timestamp is
 * STALE rather than INVALID because the signature over it was genuine: the sender, not an attacker, got it
 * wrong.
 * <p>
 * The timestamp alone does not stop replays inside the window: the dedupe window (which must be longer than
 * {@link #DEFAULT_PAST_TOLERANCE_SECONDS}) does. The delivery id header is not signed, so dedupe should also
 * key on something signed (the signature, or the timestamp and body).
 */
public final class LinktreeVerifier extends TimestampedHmacVerifier {

  public static final String SIGNATURE_HEADER = "x-linktree-signature";
  public static final String TIMESTAMP_HEADER = "x-linktree-timestamp";

  /**
   * How old a signed timestamp may be. Linktree retries a failed delivery 5 times (after 10 s, 30 s, 90 s,
   * 270 s and 810 s, about 20 minutes in all) and disables the webhook after 72 h of failures; the contract
   * requires the tolerance to cover that retry horizon. A retry carries the original timestamp, so a delivery
   * re-sent at any point up to the 72 h disable horizon must still verify: 72 h, plus one hour for clock skew
   * and queueing on either side. Replays inside this window are stopped by dedupe, not here.
   */
  public static final long DEFAULT_PAST_TOLERANCE_SECONDS = 73 * 3600;

  /** How far ahead of our clock a timestamp may be: clock skew only, a sender never signs the future. */
  public static final long DEFAULT_FUTURE_TOLERANCE_SECONDS = 300;

  private static final byte[] SEPARATOR = {'.'};
  private static final int MAX_TIMESTAMP_DIGITS = 12;

  /** A verifier with the default window ({@value #DEFAULT_PAST_TOLERANCE_SECONDS} s back, 300 s ahead). */
  public LinktreeVerifier(List<Secret> secrets) {
    this(secrets, DEFAULT_PAST_TOLERANCE_SECONDS, DEFAULT_FUTURE_TOLERANCE_SECONDS);
  }

  /**
   * @param secrets                signing secrets, newest first by convention; all are accepted
   * @param pastToleranceSeconds   how old a timestamp may be; exactly this old is still accepted
   * @param futureToleranceSeconds how far ahead a timestamp may be; exactly this far is still accepted
   */
  public LinktreeVerifier(List<Secret> secrets, long pastToleranceSeconds, long futureToleranceSeconds) {
    super(SIGNATURE_HEADER, TIMESTAMP_HEADER, secrets, pastToleranceSeconds, futureToleranceSeconds);
  }

  @Override
  int match(String timestamp, byte[] body, byte[] presented) {
    return hmac.match(signedPrefix(timestamp), body, presented);
  }

  @Override
  long signedAt(String timestamp) {
    return SignedTimestamp.digits(timestamp, MAX_TIMESTAMP_DIGITS);
  }

  /** The {@value #SIGNATURE_HEADER} value for {@code body} sent with {@code timestamp}: for tests and tools. */
  public static String sign(Secret secret, String timestamp, Buffer body) {
    return HmacSha256.sign(secret, signedPrefix(timestamp), body.getBytes());
  }

  private static byte[] signedPrefix(String timestamp) {
    byte[] ts = timestamp.getBytes(StandardCharsets.ISO_8859_1);
    byte[] prefix = new byte[ts.length + 1];
    System.arraycopy(ts, 0, prefix, 0, ts.length);
    prefix[ts.length] = SEPARATOR[0];
    return prefix;
  }
}
