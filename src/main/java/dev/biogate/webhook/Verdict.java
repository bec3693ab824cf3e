package dev.biogate.webhook;

/**
 * The outcome of verifying one webhook delivery, with the error code the sender is told ({@code missing_signature},
 * {@code invalid_signature}, {@code stale_timestamp}; the HTTP status is chosen where deliveries are answered). A valid verdict also tells which of the configured secrets matched, so secret
 * rotation can be watched (when index 0, the newest, carries all traffic, the old secret can go).
 * <p>
 * Immutable; the rejecting verdicts are shared constants, compare them with {@link #outcome()}.
 */
public final class Verdict {

  /** What the verifier concluded. */
  public enum Outcome {
    /** Signed by one of the configured secrets (and, where the scheme has one, the timestamp is fresh). */
    VALID(null),
    /** The signature header, or a signed timestamp header the scheme requires, is absent or empty. */
    MISSING("missing_signature"),
    /** The signature is malformed or matches none of the secrets. */
    INVALID("invalid_signature"),
    /** Correctly signed, but the signed timestamp is malformed or outside the accepted window. */
    STALE("stale_timestamp");

    private final String errorCode;

    Outcome(String errorCode) {
      this.errorCode = errorCode;
    }
  }

  public static final Verdict MISSING = new Verdict(Outcome.MISSING, -1);
  public static final Verdict INVALID = new Verdict(Outcome.INVALID, -1);
  public static final Verdict STALE = new Verdict(Outcome.STALE, -1);

  private static final Verdict[] VALID = new Verdict[8];

  static {
    for (int i = 0; i < VALID.length; i++) {
      VALID[i] = new Verdict(Outcome.VALID, i);
    }
  }

  private final Outcome outcome;
  private final int secretIndex;

  private Verdict(Outcome outcome, int secretIndex) {
    this.outcome = outcome;
    this.secretIndex = secretIndex;
  }

  /** A valid verdict: the secret at {@code secretIndex} (in configuration order) produced the signature. */
  public static Verdict valid(int secretIndex) {
    if (secretIndex < 0) {
      throw new IllegalArgumentException("secretIndex must be >= 0");
    }
    return secretIndex < VALID.length ? VALID[secretIndex] : new Verdict(Outcome.VALID, secretIndex);
  }

  public Outcome outcome() {
    return outcome;
  }

  public boolean isValid() {
    return outcome == Outcome.VALID;
  }

  /** The {@code error} code of the JSON error body, or {@code null} when valid. */
  public String errorCode() {
    return outcome.errorCode;
  }

  /** Index of the matching secret in configuration order, or -1 when not valid. */
  public int secretIndex() {
    return secretIndex;
  }

  @Override
  public String toString() {
    return isValid() ? "VALID(secret #" + secretIndex + ")" : outcome.name();
  }
}
