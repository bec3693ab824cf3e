package dev.biogate.webhook;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * A webhook body being received, charged against the instance's {@link BodyBudget} for the heap it holds. A body that
 * arrives in one chunk (a typical delivery) is kept as it came and charged its length; one in several chunks is copied
 * into one array, grown by doubling (from {@link #FIRST_CAPACITY}, never past the limit), and charged that array's
 * size before it is allocated (so at most twice the bytes received, and never more than the limit). Chunks used to be kept as they came, each charged its length: a 1-byte chunk held ~115
 * B of heap, and two addresses sending 1-byte chunks within their shares ran a 160 MB heap out of memory.
 * Confined to the connection's event loop; {@link #release} gives back what was charged, once.
 */
final class IncomingBody {

  enum Taken { TAKEN, TOO_LARGE, NO_ROOM }

  /** The first array a body in several chunks gets (or its size so far, if larger). */
  static final int FIRST_CAPACITY = 4096;

  private final BodyBudget budget;
  private final String client;
  private final int maxBytes;
  /** The one chunk received so far, kept as it came; {@code null} once a second came (or before the first). */
  private Buffer single;
  /** The bytes so far once a second chunk came. */
  private ByteBuf joined;
  private int length;
  private long charged;

  /** A body for {@code client} (a client key; {@code null}: held to no share) of at most {@code maxBytes}. */
  IncomingBody(BodyBudget budget, String client, int maxBytes) {
    this.budget = budget;
    this.client = client;
    this.maxBytes = maxBytes;
  }

  /** Takes the next chunk, or says why not (nothing taken then: the exchange is to be refused). */
  Taken take(Buffer chunk) {
    int n = chunk.length();
    if ((long) length + n > maxBytes) {
      return Taken.TOO_LARGE;
    }
    if (length == 0 && single == null) {
      if (!charge(n)) {
        return Taken.NO_ROOM;
      }
      single = chunk;
      length = n;
      return Taken.TAKEN;
    }
    int needed = length + n;
    if (joined == null || joined.capacity() < needed) {
      int capacity = joined == null ? FIRST_CAPACITY : joined.capacity() * 2;
      capacity = (int) Math.min(maxBytes, Math.max(needed, capacity));
      // Charged before it is allocated: what it holds beyond the array (or chunk) it replaces, which is garbage once
      // copied (both are held only for the copy).
      if (!charge(capacity - (joined != null ? joined.capacity() : single.length()))) {
        return Taken.NO_ROOM;
      }
      ByteBuf grown = Unpooled.buffer(capacity, capacity);
      grown.writeBytes(joined != null ? joined : ((BufferInternal) single).getByteBuf());
      single = null;
      joined = grown;
    }
    joined.writeBytes(((BufferInternal) chunk).getByteBuf());
    length = needed;
    return Taken.TAKEN;
  }

  /** What this body is charged now. */
  long charged() {
    return charged;
  }

  /** The body received: the chunk as it came, or the joined bytes. */
  Buffer bytes() {
    return joined != null ? BufferInternal.buffer(joined) : single != null ? single : Buffer.buffer();
  }

  /** Gives back what was charged. */
  void release() {
    uncharge(charged);
  }

  private boolean charge(long bytes) {
    if (!budget.reserve(client, bytes)) {
      return false;
    }
    charged += bytes;
    return true;
  }

  private void uncharge(long bytes) {
    if (bytes > 0) {
      budget.release(client, bytes);
      charged -= bytes;
    }
  }
}
