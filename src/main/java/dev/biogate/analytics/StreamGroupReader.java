package dev.biogate.analytics;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Reads one stream through a consumer group on behalf of this instance, hands each batch to a {@link Handler} and
 * acknowledges exactly the entries the handler reports done, so delivery is at-least-once: entries the handler keeps
 * stay pending and are offered again (this consumer's own, {@code XREADGROUP ... 0}, after the handler's retry
 * delay), and entries idle longer than {@code claimIdleMs} (their instance died) are taken over with
 * {@code XAUTOCLAIM}. One batch at a time, polling without {@code BLOCK}: no pooled connection is ever held, and
 * {@link #stop()} only waits for the batch in hand. Redis outages and a lost group ({@code NOGROUP}) are survived.
 * All state is confined to the context {@link #start()} is called on.
 */
public final class StreamGroupReader {

  /** What is done with a batch. */
  public interface Handler {
    /** Completes with the ids that may be acknowledged; the others stay pending. A failure keeps all pending. */
    Future<Collection<String>> handle(List<StreamRecord> records);

    /** How long to wait before offering kept entries again. */
    default long retryDelayMs() {
      return 1_000;
    }
  }

  /** Batch size, idle poll interval, and the claim policy for entries of dead consumers. */
  public record Settings(int count, long pollMs, long claimIdleMs, long claimIntervalMs) {
  }

  private static final Logger LOG = LoggerFactory.getLogger(StreamGroupReader.class);
  private static final long MAX_BACKOFF_MS = 2_000;

  private final Vertx vertx;
  private final StreamGroup group;
  private final Settings settings;
  private final Handler handler;
  private final Promise<Void> stopped = Promise.promise();
  private boolean needGroup = true;
  private boolean ownPending = true;
  private boolean busy;
  private boolean stopping;
  private boolean degraded;
  private long backoffMs;
  private long timer = -1;
  private long nextClaimAt;

  public StreamGroupReader(Vertx vertx, Redis redis, String stream, String group, String consumer, Settings settings,
                           Handler handler) {
    this.vertx = vertx;
    this.group = new StreamGroup(redis, stream, group, consumer);
    this.settings = settings;
    this.handler = handler;
  }

  public void start() {
    nextClaimAt = System.currentTimeMillis() + settings.claimIntervalMs();
    step();
  }

  /** Stops after the batch in hand; the consumer leaves the group if it owns nothing pending. */
  public Future<Void> stop() {
    stopping = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    if (!busy) {
      stopped.tryComplete();
    }
    return stopped.future().compose(v -> group.leave());
  }

  private void step() {
    timer = -1;
    if (stopping) {
      stopped.tryComplete();
      return;
    }
    busy = true;
    boolean claiming = System.currentTimeMillis() >= nextClaimAt;
    Future<Void> ready = needGroup ? group.ensure().onSuccess(v -> needGroup = false) : Future.succeededFuture();
    ready.compose(v -> claiming ? group.claim(settings.claimIdleMs(), settings.count()) : group.read(ownPending ? "0" : ">", settings.count()))
      .compose(records -> handleAndAck(records).map(allDone -> nextDelay(claiming, records, allDone)))
      .onComplete(ar -> {
        busy = false;
        if (ar.succeeded()) {
          if (degraded) {
            degraded = false;
            LOG.info("{} reader of {} is reading again", group.group(), group.stream());
          }
          backoffMs = 0;
          schedule(ar.result());
        } else {
          failed(ar.cause());
        }
      });
  }

  private long nextDelay(boolean claiming, List<StreamRecord> records, boolean allDone) {
    if (!allDone) {
      ownPending = true;
      return handler.retryDelayMs();
    }
    if (claiming) {
      if (group.claimPassDone()) {
        nextClaimAt = System.currentTimeMillis() + settings.claimIntervalMs();
      }
      return 0;
    }
    if (records.isEmpty()) {
      if (ownPending) {
        ownPending = false;
        return 0;
      }
      return settings.pollMs();
    }
    return 0;
  }

  private void schedule(long delayMs) {
    if (stopping) {
      stopped.tryComplete();
    } else if (delayMs <= 0) {
      vertx.runOnContext(v -> step());
    } else {
      timer = vertx.setTimer(delayMs, id -> step());
    }
  }

  private void failed(Throwable cause) {
    if (String.valueOf(cause.getMessage()).startsWith("NOGROUP")) {
      needGroup = true;
    }
    if (!degraded) {
      degraded = true;
      LOG.warn("{} reader of {} cannot read ({}); retrying with backoff", group.group(), group.stream(),
        cause.getClass().getSimpleName());
    }
    backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(100, backoffMs * 2));
    schedule(backoffMs);
  }

  /** Entries deleted while pending (no fields) are acknowledged without the handler; completes with "all done". */
  private Future<Boolean> handleAndAck(List<StreamRecord> records) {
    if (records.isEmpty()) {
      return Future.succeededFuture(true);
    }
    List<String> ack = new ArrayList<>();
    List<StreamRecord> live = new ArrayList<>(records.size());
    for (StreamRecord r : records) {
      if (r.fields() == null) {
        ack.add(r.id());
      } else {
        live.add(r);
      }
    }
    Future<Collection<String>> handled = live.isEmpty() ? Future.succeededFuture(List.of()) : handler.handle(live);
    return handled.compose(done -> {
      ack.addAll(done);
      return group.ack(ack).map(v -> done.size() >= live.size());
    });
  }
}
