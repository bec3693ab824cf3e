package dev.biogate.profile;

import io.netty.buffer.Unpooled;
import io.netty.util.AsciiString;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.nio.ByteBuffer;

/**
 * One cached answer for a username, stored ready to write: the encoded JSON, its gzip form and its ETag are
 * computed once when the copy is made, so serving it costs no JSON work. A copy is either a profile (200) or a
 * remembered "no such profile" (404, negatively cached).
 */
public final class CachedProfile {

  private final String username;
  private final boolean found;
  private final long fetchedAtMs;
  private final Buffer json;
  private final Buffer gzip;
  private final AsciiString etag;
  private final AsciiString gzipEtag;
  private volatile JsonObject parsed;

  CachedProfile(String username, boolean found, long fetchedAtMs, Buffer json, Buffer gzip, String etag) {
    this.username = username;
    this.found = found;
    this.fetchedAtMs = fetchedAtMs;
    this.json = direct(json);
    this.gzip = gzip == null ? null : direct(gzip);
    this.etag = etag == null ? null : AsciiString.of(etag);
    // RFC 9110 8.8.3: the gzip copy is another representation, so it has its own strong tag ("...-gz").
    this.gzipEtag = etag == null ? null : AsciiString.of(etag.endsWith("\"") ? etag.substring(0, etag.length() - 1) + "-gz\"" : etag + "-gz");
  }

  /**
   * The bytes in an off-heap buffer, so every response hands the socket memory it can write as is (a heap buffer is
   * copied to a direct one on each write). The JDK buffer is freed by the garbage collector when the copy is
   * dropped; the Netty wrapper is unreleasable, so no response can free it early.
   */
  private static Buffer direct(Buffer b) {
    ByteBuffer bytes = ByteBuffer.allocateDirect(b.length());
    bytes.put(b.getBytes()).flip();
    return BufferInternal.buffer(Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(bytes)));
  }

  public String username() { return username; }

  /** False for a negatively cached 404. */
  public boolean found() { return found; }

  /** When the upstream produced this copy (epoch ms); the basis of {@code Age} and freshness. */
  public long fetchedAtMs() { return fetchedAtMs; }

  /** Encoded JSON body: the profile, or the 404 error document. */
  public Buffer json() { return json; }

  /** Gzip of {@link #json()}; {@code null} for 404 copies (too small to be worth it). */
  public Buffer gzip() { return gzip; }

  /** Strong ETag, quoted; {@code null} for 404 copies. */
  public AsciiString etag() { return etag; }
  /** The ETag of the gzip copy: the identity tag with a {@code -gz} suffix inside the quotes. */
  public AsciiString gzipEtag() { return gzipEtag; }

  public long ageMs(long nowMs) {
    return Math.max(0, nowMs - fetchedAtMs);
  }

  /**
   * The profile as JSON, decoded on first use and kept. Only for the colder paths (links pagination, redirects),
   * never for serving the profile itself.
   */
  public JsonObject document() {
    JsonObject p = parsed;
    if (p == null) {
      p = new JsonObject(json);
      parsed = p;
    }
    return p;
  }

  /** Approximate heap cost, for the L1 byte bound. */
  int weight() {
    return 128 + username.length() * 2 + json.length() + (gzip == null ? 0 : gzip.length()) + (etag == null ? 0 : etag.length());
  }
}
