package dev.biogate.profile;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;

/**
 * The binary form of a {@link CachedProfile} in Redis (L2): the very bytes L1 serves, so an instance that finds a
 * copy in L2 does no JSON work either. Layout: format byte, found flag, fetchedAt (long), then length-prefixed
 * ETag, JSON and gzip sections. The format byte is 2 for an {@link CachedProfile#outdated() outdated} copy, 1 for
 * any other: an instance that knows only format 1 takes an outdated copy for a miss and fetches the profile.
 */
final class ProfileCodec {

  private static final byte CURRENT = 1;
  private static final byte OUTDATED = 2;

  private ProfileCodec() {
  }

  static Buffer encode(CachedProfile p) {
    byte[] etag = p.etag() == null ? new byte[0] : p.etag().toString().getBytes(StandardCharsets.US_ASCII);
    Buffer gzip = p.gzip() == null ? Buffer.buffer() : p.gzip();
    Buffer out = Buffer.buffer(2 + 8 + 12 + etag.length + p.json().length() + gzip.length());
    out.appendByte(p.outdated() ? OUTDATED : CURRENT).appendByte((byte) (p.found() ? 1 : 0)).appendLong(p.fetchedAtMs());
    out.appendInt(etag.length).appendBytes(etag);
    out.appendInt(p.json().length()).appendBuffer(p.json());
    out.appendInt(gzip.length()).appendBuffer(gzip);
    return out;
  }

  /** Decodes a copy; {@code null} for an unknown version or a truncated value (treated as a miss). */
  static CachedProfile decode(String username, Buffer b) {
    try {
      if (b == null || b.length() < 22 || b.getByte(0) != CURRENT && b.getByte(0) != OUTDATED) {
        return null;
      }
      boolean found = b.getByte(1) == 1;
      long fetchedAt = b.getLong(2);
      int pos = 10;
      int etagLen = b.getInt(pos);
      pos += 4;
      String etag = etagLen == 0 ? null : b.getString(pos, pos + etagLen, "US-ASCII");
      pos += etagLen;
      int jsonLen = b.getInt(pos);
      pos += 4;
      Buffer json = b.getBuffer(pos, pos + jsonLen);
      pos += jsonLen;
      int gzLen = b.getInt(pos);
      pos += 4;
      Buffer gzip = gzLen == 0 ? null : b.getBuffer(pos, pos + gzLen);
      if (pos + gzLen != b.length()) {
        return null;
      }
      CachedProfile copy = new CachedProfile(username, found, fetchedAt, json, gzip, etag);
      return b.getByte(0) == OUTDATED ? copy.asOutdated() : copy;
    } catch (IndexOutOfBoundsException e) {
      return null;
    }
  }
}
