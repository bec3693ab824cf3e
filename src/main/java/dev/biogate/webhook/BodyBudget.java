package dev.biogate.webhook;

import dev.biogate.config.WebhookOptions;
import dev.biogate.http.KeyedCeiling;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The memory this instance gives to webhook bodies being received, shared by every event loop.
 * <p>
 * Bodies are held until they have arrived whole or the body deadline passed: 2,000 senders declaring the largest body
 * and stalling once ran a 160 MB heap out of memory, when a buffer of the declared size was allocated on the head. A
 * delivery whose declared length does not fit what is held now is answered 503 with {@code Retry-After} on its head
 * (providers retry; nothing was taken in); its body then takes its bytes here as they arrive (503 when a chunk does not
 * fit), and gives them back when the exchange ends, however it ends. Declaring costs nothing: heads that declared the
 * largest body and never sent it, 5 from each of 16 addresses, used to hold the whole budget.
 * <p>
 * One client may hold at most a share of it: {@link #CLIENT_SHARE} of the budget, and never less than one largest
 * body. Without that, one address declaring full-size bodies and never sending them (128 connections, reconnecting
 * after each body deadline, no secret needed) kept every provider's deliveries answered 503 for as long as it went on.
 * <p>
 * A body arriving for longer than {@code webhooks.slowBodyMs} (a second by default) gives way to a delivery that needs its room ({@link #makeRoom}): that
 * of the client holding the most (never one holding less than the newcomer's client), the one arriving longest. A
 * provider sends its body with its head, or right after; one still arriving a second later is a stall or a trickle.
 * Without this, bodies were held until the body deadline whatever their progress: 24 addresses sending half a largest
 * body each and stalling, again after every deadline, kept 86 of 115 signed deliveries refused, with no secret.
 */
final class BodyBudget extends KeyedCeiling {

  /** The smallest default budget: 64 deliveries of the default 256 KiB, or thousands of typical ones. */
  static final long MIN_DEFAULT = 16L << 20;

  /** The part of the budget one client may hold: a sixteenth, so that it takes at least 16 addresses to fill it. */
  static final int CLIENT_SHARE = 16;

  /** Bodies taken back at most for one delivery: the room one largest body needs, several bodies' worth. */
  static final int MAX_EVICTIONS = 8;
  /** Bodies looked at, at most, for each one taken back (a scan of the bodies being received, bounded). */
  static final int SCAN = 4096;

  /** The bodies being received now, on every event loop. */
  private final Set<IncomingBody> arriving = ConcurrentHashMap.newKeySet();
  private final LongAdder evictions = new LongAdder();
  /** A body arriving for longer may be taken back for a delivery that needs its room. */
  private final long slowNanos;

  BodyBudget(long capacity) {
    this(capacity, capacity, WebhookOptions.DEFAULT_SLOW_BODY_MS);
  }

  BodyBudget(long capacity, long largestBody) {
    this(capacity, largestBody, WebhookOptions.DEFAULT_SLOW_BODY_MS);
  }

  /**
   * {@code capacity} bytes in all, a client at most a {@link #CLIENT_SHARE}th of them but at least {@code largestBody};
   * a body arriving for over {@code slowBodyMs} may be taken back.
   */
  BodyBudget(long capacity, long largestBody, long slowBodyMs) {
    super(capacity, Math.min(capacity, Math.max(largestBody, capacity / CLIENT_SHARE)));
    this.slowNanos = TimeUnit.MILLISECONDS.toNanos(slowBodyMs);
  }

  /** {@code configured} bytes, or when it is 0 an eighth of {@code maxHeap}, at least {@link #MIN_DEFAULT}. */
  static BodyBudget of(long configured, long maxHeap) {
    return of(configured, maxHeap, 0, WebhookOptions.DEFAULT_SLOW_BODY_MS);
  }

  /**
   * As {@link #of(long, long)}, a client holding at most its share and never less than {@code largestBody}, a body
   * arriving for over {@code slowBodyMs} giving way.
   */
  static BodyBudget of(long configured, long maxHeap, long largestBody, long slowBodyMs) {
    return new BodyBudget(configured > 0 ? configured : Math.max(MIN_DEFAULT, maxHeap == Long.MAX_VALUE ? 1L << 30 : maxHeap / 8),
      largestBody, slowBodyMs);
  }

  void track(IncomingBody body) {
    arriving.add(body);
  }

  void untrack(IncomingBody body) {
    arriving.remove(body);
  }

  /**
   * Takes back bodies arriving for over {@code slowBodyMs} until {@code needed} more fits for {@code client}: only
   * when the budget, not the client's own share, stands in the way; a body of a client holding less than
   * {@code client} never goes; {@code self} (the body asking, if any) never goes. True when it now fits.
   */
  boolean makeRoom(String client, long needed, IncomingBody self) {
    long mine = client == null ? 0 : held(client);
    if (mine + needed > perKey()) {
      return false;
    }
    long now = System.nanoTime();
    for (int taken = 0; taken < MAX_EVICTIONS && used() + needed > capacity(); taken++) {
      IncomingBody victim = null;
      long victimHolds = -1;
      int seen = 0;
      for (IncomingBody b : arriving) {
        if (++seen > SCAN) {
          break;
        }
        long charged = b.charged();
        if (b == self || charged == 0 || now - b.since() <= slowNanos) {
          continue;
        }
        long holds = b.client() == null ? charged : held(b.client());
        if (holds < mine) {
          continue;
        }
        if (holds > victimHolds || holds == victimHolds && b.since() - victim.since() < 0) {
          victim = b;
          victimHolds = holds;
        }
      }
      if (victim == null) {
        break;
      }
      if (victim.evict()) {
        evictions.increment();
      }
    }
    return fits(client, needed);
  }

  /** Bodies taken back for deliveries that needed their room, since start. */
  long evictions() {
    return evictions.sum();
  }

  /** The bytes one client may hold. */
  long perClient() {
    return perKey();
  }

  /** Clients holding a reservation now. */
  int clients() {
    return keys();
  }
}
