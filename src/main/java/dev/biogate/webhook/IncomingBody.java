package dev.biogate.webhook;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A webhook body being received, charged against the instance's {@link BodyBudget} for the heap it holds. A body that
 * arrives in one chunk (a typical delivery) is kept as it came and charged its length; one in several chunks is copied
 * into one array, grown by half (from {@link #FIRST_CAPACITY}, never past the limit), and charged that array's size
 * before it is allocated (so at most one and a half times the bytes received, and never more than the limit). Chunks
 * used to be kept as they came, each charged its length: a 1-byte chunk held ~115 B of heap, and two addresses sending
 * 1-byte chunks within their shares ran a 160 MB heap out of memory. Grown by doubling, 128 KiB and a byte were
 * charged 256 KiB.
 * <p>
 * Read on the connection's event loop. The budget may take a body arriving for over a second back for a delivery that
 * needs its room ({@link BodyBudget#makeRoom}), from any event loop: {@link #evict} gives back its charge then and
 * tells the exchange ({@link #onEvicted}), and the body takes nothing more. {@link #release} gives back what is still
 * charged; the two never give back the same bytes.
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
  /** What the budget holds for this body; set to 0 by whichever of {@link #evict} and {@link #release} gives it back. */
  private final AtomicLong charged = new AtomicLong();
  private final AtomicBoolean evicted = new AtomicBoolean();
  /** When the body began arriving ({@code System.nanoTime()}): its head was read. */
  private final long since = System.nanoTime();
  private volatile Runnable onEvicted = () -> { };

  /**
   * A body for {@code client} (a client key; {@code null}: held to no share) of at most {@code maxBytes}, arriving from
   * now on: tracked by the budget until {@link #release}d.
   */
  IncomingBody(BodyBudget budget, String client, int maxBytes) {
    this.budget = budget;
    this.client = client;
    this.maxBytes = maxBytes;
    budget.track(this);
  }

  /** What to do, on any thread, when the budget takes this body back for another (the exchange is to be refused). */
  void onEvicted(Runnable action) {
    this.onEvicted = action;
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
      int capacity = joined == null ? FIRST_CAPACITY : joined.capacity() + joined.capacity() / 2;
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
    return charged.get();
  }

  String client() {
    return client;
  }

  long since() {
    return since;
  }

  /**
   * Gives back this body's charge for another delivery (from any thread) and tells the exchange; false when it was
   * released or taken back already.
   */
  boolean evict() {
    if (!evicted.compareAndSet(false, true)) {
      return false;
    }
    giveBack();
    budget.untrack(this);
    onEvicted.run();
    return true;
  }

  /**
   * The body has arrived whole: it is no longer one the budget may take back (its charge stays until {@link #release},
   * while the delivery is verified and queued).
   */
  void arrived() {
    budget.untrack(this);
  }

  /** The body received: the chunk as it came, or the joined bytes. */
  Buffer bytes() {
    return joined != null ? BufferInternal.buffer(joined) : single != null ? single : Buffer.buffer();
  }

  /** Gives back what is still charged, and leaves the budget's view. */
  void release() {
    giveBack();
    budget.untrack(this);
  }

  /**
   * Charges {@code bytes}, making room when only bodies arriving for long stand in the way. A body taken back
   * meanwhile takes nothing: what it charged after being taken back is given back at once.
   */
  private boolean charge(long bytes) {
    if (evicted.get() || !budget.reserve(client, bytes) && !(budget.makeRoom(client, bytes, this) && budget.reserve(client, bytes))) {
      return false;
    }
    charged.addAndGet(bytes);
    if (evicted.get()) {
      giveBack();
      return false;
    }
    return true;
  }

  private void giveBack() {
    long bytes = charged.getAndSet(0);
    if (bytes > 0) {
      budget.release(client, bytes);
    }
  }
}
