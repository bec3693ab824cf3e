package dev.biogate.events;

import dev.biogate.config.WebhookOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Handles the entries this instance holds: runs the handler, acknowledges on success, and on failure records the
 * attempt in Redis and retries after an exponential backoff ({@code retryBaseMs * 2^(attempt-1)}) until the script
 * moves the entry to the dead letters after {@code maxAttempts}. While held (handling or waiting to retry) an entry
 * stays pending under this consumer and is touched by the heartbeat, so no other instance claims it.
 * <p>
 * Confined to the events verticle's context: no locking.
 */
final class EventProcessor {

  static final int MAX_HELD = 64;
  private static final long HANDLER_TIMEOUT_MS = 15_000;
  private static final long MAX_BACKOFF_MS = 600_000;
  private static final int ACK_TRIES = 6;
  private static final long ACK_RETRY_MS = 100;

  private final Vertx vertx;
  private final WebhookOptions options;
  private final EventStream stream;
  private final EventRouter router;
  private final EventStats stats;
  private final Map<String, Held> held = new HashMap<>();
  private Promise<Void> roomWaiter;
  private boolean stopped;

  EventProcessor(Vertx vertx, WebhookOptions options, EventStream stream, EventRouter router, EventStats stats) {
    this.vertx = vertx;
    this.options = options;
    this.stream = stream;
    this.router = router;
    this.stats = stats;
  }

  void submit(StreamEntry e) {
    if (stopped || held.containsKey(e.id)) {
      return;
    }
    Held h = new Held(e);
    held.put(e.id, h);
    attempt(h);
  }

  int room() {
    return MAX_HELD - held.size();
  }

  /** Completes once fewer than {@link #MAX_HELD} entries are held. */
  Future<Void> whenRoom() {
    if (room() > 0 || stopped) {
      return Future.succeededFuture();
    }
    if (roomWaiter == null) {
      roomWaiter = Promise.promise();
    }
    return roomWaiter.future();
  }

  List<String> heldIds() {
    return new ArrayList<>(held.keySet());
  }

  /** Another consumer owns these now (we stalled past claimIdleMs): stop retrying them here. */
  void lost(List<String> ids) {
    ids.forEach(id -> {
      Held h = held.get(id);
      if (h != null) {
        h.lost = true;
        if (h.timer >= 0) {
          vertx.cancelTimer(h.timer);
          release(h);
        }
      }
    });
  }

  /** Stops retrying; held entries stay pending in Redis and are claimed by another instance after claimIdleMs. */
  void stop() {
    stopped = true;
    held.values().forEach(h -> {
      if (h.timer >= 0) {
        vertx.cancelTimer(h.timer);
      }
    });
    held.clear();
    signalRoom();
  }

  private void attempt(Held h) {
    h.timer = -1;
    Future<Void> work;
    try {
      work = router.route(h.entry);
    } catch (RuntimeException e) {
      work = Future.failedFuture(e);
    }
    work.timeout(HANDLER_TIMEOUT_MS, TimeUnit.MILLISECONDS).onComplete(ar -> {
      if (ar.succeeded()) {
        stats.handled.incrementAndGet();
        // Acknowledge even after stop or a lost claim: the work is done, and an ack spares someone a repeat.
        acknowledge(h, 1);
        return;
      }
      stats.failedAttempts.incrementAndGet();
      if (stopped || h.lost) {
        release(h);
        return;
      }
      stream.failed(h.entry, EventFailure.reasonOf(ar.cause())).onComplete(after -> {
        if (after.failed() || after.result().next() != EventStream.AfterFailure.RETRY || stopped || h.lost) {
          // On Redis trouble the entry stays pending and is reclaimed after claimIdleMs (by us or another instance).
          if (after.succeeded() && after.result().next() == EventStream.AfterFailure.DEAD_LETTERED) {
            stats.deadLettered.incrementAndGet();
          }
          release(h);
          return;
        }
        h.timer = vertx.setTimer(backoff(after.result().attempts()), t -> attempt(h));
      });
    });
  }

  /**
   * An acknowledgement that fails (Redis blip) is retried while the entry stays held (and heartbeated): giving up at
   * once would let the entry be reclaimed and handled a second time.
   */
  private void acknowledge(Held h, int tries) {
    stream.ack(h.entry).onComplete(ar -> {
      if (ar.succeeded() || stopped || h.lost || tries >= ACK_TRIES) {
        release(h);
      } else {
        h.timer = vertx.setTimer(ACK_RETRY_MS << (tries - 1), t -> {
          h.timer = -1;
          acknowledge(h, tries + 1);
        });
      }
    });
  }

  private long backoff(int attempt) {
    long ms = options.retryBaseMs() << Math.min(attempt - 1, 20);
    return Math.min(ms, MAX_BACKOFF_MS);
  }

  private void release(Held h) {
    if (held.get(h.entry.id) == h) {
      held.remove(h.entry.id);
    }
    signalRoom();
  }

  private void signalRoom() {
    if (roomWaiter != null && (room() > 0 || stopped)) {
      Promise<Void> p = roomWaiter;
      roomWaiter = null;
      p.complete();
    }
  }

  private static final class Held {
    final StreamEntry entry;
    long timer = -1;
    boolean lost;

    Held(StreamEntry entry) {
      this.entry = entry;
    }
  }
}
