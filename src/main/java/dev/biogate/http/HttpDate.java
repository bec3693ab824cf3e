package dev.biogate.http;

import io.netty.handler.codec.DateFormatter;
import io.netty.util.AsciiString;

import java.util.Date;

/**
 * The {@code Date} header every answer carries (RFC 9110 6.6.1: an origin server with a clock sends it on 2xx, 3xx
 * and 4xx; caches read {@code Age} against it). Formatted once a second, not per answer: a read costs a clock read and
 * a volatile load.
 */
final class HttpDate {

  static final AsciiString NAME = AsciiString.cached("Date");

  private record Formatted(long second, AsciiString value) {
  }

  private static volatile Formatted current = format(System.currentTimeMillis() / 1000);

  private HttpDate() {
  }

  /** Now, as an IMF-fixdate ({@code Sun, 06 Dec 2026 14:15:00 GMT}). */
  static AsciiString now() {
    long second = System.currentTimeMillis() / 1000;
    Formatted f = current;
    if (f.second != second) {
      f = format(second);
      current = f; // racing event loops format the same second: any of their copies will do
    }
    return f.value;
  }

  private static Formatted format(long second) {
    return new Formatted(second, new AsciiString(DateFormatter.format(new Date(second * 1000))));
  }
}
