package dev.biogate.webhook;

/**
 * The signed-timestamp rules the Linktree and Klaviyo schemes share: a timestamp is plain ASCII digits (no sign, no
 * spaces, no Unicode digits: stricter than {@link Long#parseLong}), and a correctly signed delivery whose timestamp is
 * unreadable or outside the window is {@link Verdict#STALE}.
 *
 * @param pastToleranceSeconds   how old a timestamp may be; exactly this old is still accepted
 * @param futureToleranceSeconds how far ahead a timestamp may be; exactly this far is still accepted
 */
record SignedTimestamp(long pastToleranceSeconds, long futureToleranceSeconds) {

  SignedTimestamp {
    if (pastToleranceSeconds < 0 || futureToleranceSeconds < 0) {
      throw new IllegalArgumentException("timestamp tolerances must be >= 0");
    }
  }

  /** The value of 1 to {@code maxDigits} ASCII digits, or -1. */
  static long digits(String s, int maxDigits) {
    if (s.isEmpty() || s.length() > maxDigits) {
      return -1;
    }
    long value = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  /** VALID for the secret at {@code index} when {@code signedAt} (seconds, -1 = unreadable) lies in the window, else STALE. */
  Verdict verdict(int index, long signedAt, long nowEpochSeconds) {
    if (signedAt < 0
      || nowEpochSeconds - signedAt > pastToleranceSeconds
      || signedAt - nowEpochSeconds > futureToleranceSeconds) {
      return Verdict.STALE;
    }
    return Verdict.valid(index);
  }

  @Override
  public String toString() {
    return "past=" + pastToleranceSeconds + "s, future=" + futureToleranceSeconds + "s";
  }
}
