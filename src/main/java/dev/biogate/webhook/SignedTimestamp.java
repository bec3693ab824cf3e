package dev.biogate.webhook;

/**
 * The signed-timestamp rules the Linktree and Klaviyo schemes share: a timestamp is plain ASCII digits (no sign, no
 * spaces, no Unicode digits: stricter than {@link Long#parseLong}), and a correctly signed delivery whose timestamp is
 * unreadable or outside the window is {@link Verdict#STALE}.
 */
final class SignedTimestamp {

  private SignedTimestamp() {
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
  static Verdict verdict(int index, long signedAt, long nowEpochSeconds, long pastToleranceSeconds, long futureToleranceSeconds) {
    if (signedAt < 0
      || nowEpochSeconds - signedAt > pastToleranceSeconds
      || signedAt - nowEpochSeconds > futureToleranceSeconds) {
      return Verdict.STALE;
    }
    return Verdict.valid(index);
  }
}
