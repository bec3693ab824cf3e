package dev.biogate.sandbox;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Opaque link-page cursors: base64url of a versioned offset. */
final class SandboxCursor {

  private static final String PREFIX = "o1:";

  private SandboxCursor() {
  }

  static String encode(int offset) {
    byte[] raw = (PREFIX + offset).getBytes(StandardCharsets.US_ASCII);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
  }

  /** The offset a cursor names; missing or empty means the first page. Throws a 400 for anything else. */
  static int decode(String cursor) {
    if (cursor == null || cursor.isEmpty()) {
      return 0;
    }
    try {
      String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.US_ASCII);
      if (raw.startsWith(PREFIX)) {
        int offset = Integer.parseInt(raw.substring(PREFIX.length()));
        if (offset >= 0) {
          return offset;
        }
      }
    } catch (IllegalArgumentException e) {
      // Not base64url or not a number: fall through to the 400.
    }
    throw SandboxException.badRequest("invalid_cursor", "cursor is not one this API issued");
  }
}
