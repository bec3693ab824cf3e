package dev.biogate.http;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RequestParamsTest {

  private static final ApiException BAD = new ApiException(400, "invalid_limit", "limit must be 1-1000");

  @Test
  void limitIsTheDefaultWhenAbsentAndAWholeNumberInRangeOtherwise() {
    assertEquals(100, RequestParams.limit(null, 100, 1000, BAD));
    assertEquals(1, RequestParams.limit("1", 100, 1000, BAD));
    assertEquals(1000, RequestParams.limit("1000", 100, 1000, BAD));
    for (String bad : new String[] {"", "0", "-1", "1001", "1.5", "ten", " 5", "99999999999", "+5", "٥", "1٠"}) {
      assertSame(BAD, assertThrows(ApiException.class, () -> RequestParams.limit(bad, 100, 1000, BAD)), bad);
    }
  }

  @Test
  void streamIdsAreDigitsDashDigitsOfAtMostTwentyEach() {
    for (String ok : new String[] {"1700000000000-0", "0-0", "12345678901234567890-12345678901234567890",
      "18446744073709551615-18446744073709551615"}) {
      assertEquals(ok, RequestParams.streamId(ok));
    }
    for (String bad : new String[] {null, "", "-", "1-", "-1", "1-2-3", "a-1", "1-a", "1700000000000", "+1-0", "١-٠",
      "123456789012345678901-0", "0-123456789012345678901",
      // Twenty digits past 2^64 - 1, which no Redis id holds: a replay of one was answered 503 "redis is unavailable".
      "99999999999999999999-0", "0-18446744073709551616"}) {
      ApiException e = assertThrows(ApiException.class, () -> RequestParams.streamId(bad), String.valueOf(bad));
      assertEquals(400, e.status());
      assertEquals("invalid_id", e.code());
    }
  }

  @Test
  void aRequiredUsernameIsNormalisedOrRefusedWithInvalidUsername() {
    assertEquals("demo", Usernames.required("Demo"));
    for (String bad : new String[] {null, "", "..", "a/b", "x".repeat(65)}) {
      assertSame(Usernames.INVALID, assertThrows(ApiException.class, () -> Usernames.required(bad)), String.valueOf(bad));
    }
    assertEquals(400, Usernames.INVALID.status());
    assertEquals("invalid_username", Usernames.INVALID.code());
  }
}
