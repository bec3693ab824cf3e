package dev.biogate.http;

/**
 * Request parameters several routes read the same way, checked by hand (no regex on request input); a bad value
 * throws the {@link ApiException} to answer with.
 */
public final class RequestParams {

  private static final ApiException INVALID_STREAM_ID = new ApiException(400, "invalid_id", "dead-letter ids look like 1700000000000-0");

  private RequestParams() {
  }

  /**
   * A {@code limit}: {@code absent} when {@code raw} is {@code null}, else a whole number from 1 to {@code max} in
   * ASCII digits (no sign; {@link Integer#parseInt} alone would take {@code +5} and other scripts' digits).
   */
  public static int limit(String raw, int absent, int max, ApiException invalid) {
    if (raw == null) {
      return absent;
    }
    if (raw.isEmpty() || raw.length() > 10 || !digits(raw, 0, raw.length())) {
      throw invalid;
    }
    long n = Long.parseLong(raw);
    if (n >= 1 && n <= max) {
      return (int) n;
    }
    throw invalid;
  }

  /**
   * A Redis stream entry id, {@code <digits>-<digits>} with 1 to 20 digits on each side, each at most 2^64 - 1 (Redis
   * refuses a larger one as invalid, which read as Redis being unavailable).
   */
  public static String streamId(String id) {
    int dash = id == null ? -1 : id.indexOf('-');
    if (dash < 1 || dash > 20 || id.length() - dash - 1 < 1 || id.length() - dash - 1 > 20 || !digits(id, 0, dash)
      || !digits(id, dash + 1, id.length()) || !unsigned64(id.substring(0, dash))
      || !unsigned64(id.substring(dash + 1))) {
      throw INVALID_STREAM_ID;
    }
    return id;
  }

  private static boolean unsigned64(String digits) {
    try {
      Long.parseUnsignedLong(digits);
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static boolean digits(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }
}
