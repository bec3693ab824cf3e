package dev.biogate.events;

import dev.biogate.config.WebhookOptions;
import io.vertx.core.Vertx;

import java.util.List;

/**
 * Two timers that make processing survive a dead instance without ever handling an entry twice while its holder
 * lives:
 * <ul>
 *   <li>heartbeat, every {@code claimIdleMs / 3}: resets the idle time of every entry this instance holds
 *       ({@code redis/event_touch.lua}), so a slow handler or a long retry backoff never looks abandoned;</li>
 *   <li>sweep, every {@code claimIdleMs / 2}: {@code XAUTOCLAIM} takes over entries idle for {@code claimIdleMs}:
 *       those of an instance that died (or stalled for longer than that) before acknowledging them.</li>
 * </ul>
 */
final class EventClaims {

  private static final int TOUCH_BATCH = 200;

  private final Vertx vertx;
  private final WebhookOptions options;
  private final EventStream stream;
  private final EventProcessor processor;
  private final EventStats stats;
  private String cursor = "0-0";
  private boolean sweeping;
  private long sweepTimer = -1;
  private long heartbeatTimer = -1;

  EventClaims(Vertx vertx, WebhookOptions options, EventStream stream, EventProcessor processor, EventStats stats) {
    this.vertx = vertx;
    this.options = options;
    this.stream = stream;
    this.processor = processor;
    this.stats = stats;
  }

  void start() {
    heartbeatTimer = vertx.setPeriodic(Math.max(30, options.claimIdleMs() / 3), t -> heartbeat());
    sweepTimer = vertx.setPeriodic(Math.max(50, options.claimIdleMs() / 2), t -> sweep());
  }

  void stop() {
    vertx.cancelTimer(heartbeatTimer);
    vertx.cancelTimer(sweepTimer);
  }

  private void heartbeat() {
    List<String> ids = processor.heldIds();
    for (int i = 0; i < ids.size(); i += TOUCH_BATCH) {
      stream.touch(ids.subList(i, Math.min(ids.size(), i + TOUCH_BATCH)))
        .onSuccess(lost -> {
          if (!lost.isEmpty()) {
            processor.lost(lost);
          }
        });
    }
  }

  private void sweep() {
    int room = processor.room();
    if (sweeping || room <= 0) {
      return;
    }
    sweeping = true;
    stream.claim(cursor, room).onComplete(ar -> {
      sweeping = false;
      if (ar.failed()) {
        cursor = "0-0";
        return;
      }
      cursor = ar.result().cursor;
      for (StreamEntry e : ar.result().entries) {
        if (e.fields.isEmpty()) {
          stream.drop(e.id);
        } else {
          stats.claimed.incrementAndGet();
          processor.submit(e);
        }
      }
    });
  }
}
