package dev.biogate.destination;

import dev.biogate.config.DestinationOptions;
import dev.biogate.http.BreakerGate;
import dev.biogate.http.OutboundCalls;
import dev.biogate.stream.Outcome;
import dev.biogate.stream.StreamEntry;
import dev.biogate.stream.StreamHandler;
import dev.biogate.stream.StreamPolicy;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.VertxException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The outbound stream's handler: delivers one event to one destination per entry, signed per Standard Webhooks.
 * A 2xx answer is {@code DONE}; anything else (or a timeout, or no connection) is a {@code RETRY}, so the engine's
 * policy backs off with jitter and dead-letters after {@code maxAttempts}. Each destination has its own circuit
 * breaker (while open, its entries wait without spending attempts or rate tokens, parked: {@link Outcome#park}) and its own pace ({@code ratePerSec}
 * for the whole deployment, {@link DestinationRate}). Only answers that say the destination is down or overloaded
 * (5xx, {@code 408}, {@code 429}, any other non-2xx that is not a 4xx, a timeout, no connection) count for the breaker;
 * a {@link #rejects rejection} (any other 4xx) proves the destination up and is a failure of that event alone. Ownership
 * of the entry is confirmed right before each request, so one instance at a time sends a delivery. Every attempt is
 * appended to the delivery's attempt list.
 */
public final class DestinationSender implements StreamHandler {

  private static final int MAX_ATTEMPTS_KEPT = 100;
  /** Deliveries one instance holds at once, and connections per destination. */
  private static final int HELD = 64;
  /**
   * Deliveries parked on their destinations beyond the {@link #HELD} slots, and their characters (8 Mi: 16 MiB of
   * strings at most); past either, the newest parked on the destination whose oldest parked delivery has waited
   * longest is set aside and the engine reads on.
   */
  static final int PARKED = 1_024;
  static final long PARKED_CHARS = 8L << 20;

  private final Redis redis;
  private final DestinationOptions options;
  private final WebClient client;
  private final Map<String, Target> targets = new HashMap<>();
  private final long ttlS;
  private final DestinationRate rate;
  private final DestinationDirectory directory;
  private final Vertx vertx;
  private final List<Consumer<String>> freed = new CopyOnWriteArrayList<>();
  /** Deliveries being worked on now, all destinations together ({@link #share}). */
  private final AtomicInteger busy = new AtomicInteger();

  /** {@code busy}: deliveries to this destination being worked on now ({@link #share}); {@code pace}: its {@link Pace}. */
  private record Target(DestinationOptions.Endpoint endpoint, CircuitBreaker breaker, BreakerGate gate, AtomicInteger busy,
                        Pace pace) {
    Target(DestinationOptions.Endpoint endpoint, CircuitBreaker breaker) {
      this(endpoint, breaker, new BreakerGate(breaker), new AtomicInteger(), new Pace());
    }
  }

  /**
   * What holds the destination's deliveries back, and the timers that offer a parked one again. Its pace: when this
   * instance may next ask the bucket for a token; deliveries that would ask before then are parked, and one timer
   * offers one of them again when the next token is due (each held delivery used to ask again whenever the bucket said
   * "the next in 10 ms", tens of them for each token: a drill's burst of 1,000 events to a destination paced at 100 a
   * second cost 58,597 script calls and a whole core for 11 s). Its breaker: while it is open its deliveries are parked,
   * and one timer offers one again each second, the probe once the breaker lets one through (kept in slots instead,
   * past 16 of them they were set aside, and a re-drill saw 139 of 301 come back only with the idle claim, 30-61 s after
   * the destination was back).
   */
  private static final class Pace {
    /** Epoch ms before which no delivery asks for a token (0: none due). */
    volatile long untilMs;
    /**
     * When a delivery was last held back (no token, or the breaker): a token granted soon after, with more left, offers
     * the next parked delivery at once.
     */
    volatile long heldBackAtMs = Long.MIN_VALUE / 2;
    final AtomicBoolean timer = new AtomicBoolean();
    final AtomicBoolean breakerTimer = new AtomicBoolean();
  }

  /** A non-2xx answer that counts for the breaker (not a {@link #rejects rejection}): stackless, its message a short reason safe to store. */
  private static final class Refused extends VertxException {
    final int status;

    Refused(int status) {
      super("destination answered " + status, true);
      this.status = status;
    }
  }

  public DestinationSender(Vertx vertx, Redis redis, DestinationOptions options, long ttlS, DestinationDirectory directory) {
    this.vertx = vertx;
    this.redis = redis;
    this.directory = directory;
    this.options = options;
    this.ttlS = ttlS;
    this.rate = new DestinationRate(redis);
    // As many connections per destination as deliveries the engine holds: Vert.x's default of 5 per host made
    // deliveries to one destination wait in the gateway for a connection (seconds, at tens a second).
    this.client = OutboundCalls.client(vertx, OutboundCalls.clientOptions(options.timeoutMs()),
      new PoolOptions().setHttp1MaxSize(HELD));
    for (DestinationOptions.Endpoint e : options.endpoints()) {
      targets.put(e.name(), new Target(e, OutboundCalls.breaker(vertx, "destination-" + e.name(), options.breakerMaxFailures(),
        options.breakerResetMs())));
    }
  }

  /** How the engine reads the outbound stream: this sender is its only reader. */
  public StreamPolicy policy() {
    return new StreamPolicy(OutboundKeys.STREAM, OutboundKeys.GROUP).soleReader(true).maxHeld(HELD).maxWaiting(HELD / 2)
      .maxParked(PARKED).maxParkedChars(PARKED_CHARS)
      .maxAttempts(options.maxAttempts()).retry(options.retryBaseMs(), options.retryMaxMs())
      .handlerTimeoutMs(options.timeoutMs() + 5_000).keepDelayMs(Math.min(1_000, options.breakerResetMs()))
      .deadLetters(OutboundKeys.DEAD, options.streamMaxLen())
      .history(e -> e.get("webhook_id") == null ? null : OutboundKeys.history(e.get("webhook_id")), ttlS);
  }

  @Override
  public Future<Outcome> handle(StreamEntry e) {
    return handle(e, () -> Future.succeededFuture(true));
  }

  @Override
  public void onReceiverFree(Consumer<String> listener) {
    freed.add(listener);
  }

  @Override
  public String receiverOf(StreamEntry e) {
    return e.get("destination");
  }

  /**
   * The send is the one step that cannot be taken back, so ownership is confirmed right before it (after the breaker
   * and the rate said go): an entry kept while the breaker was open or the rate said wait was left idle, and another
   * instance may have taken it over meanwhile. Confirming also resets its idle time, and the engine touches it from
   * then on, so it cannot be taken over while the request is on the wire either. Not confirmed: nothing is sent (the
   * token taken is spent; the new owner sends). Only an instance that dies or stalls past the heartbeat TTL between
   * its send and its acknowledgement lets a delivery be sent again (at least once, same {@code webhook-id}).
   */
  @Override
  public Future<Outcome> handle(StreamEntry e, Ownership ownership) {
    Target t = targets.get(e.get("destination"));
    String id = e.get("webhook_id");
    if (id == null) {
      return Future.succeededFuture(Outcome.dead("no webhook id"));
    }
    if (t == null) {
      return elsewhere(e.get("destination"));
    }
    if (!t.endpoint().enabled()) {
      return Future.succeededFuture(Outcome.keep(options.breakerResetMs()).onReceiver(t.endpoint().name()));
    }
    String name = t.endpoint().name();
    if (t.busy().get() >= share(t)) {
      return Future.succeededFuture(Outcome.park(name));
    }
    long now = System.currentTimeMillis();
    if (now < t.pace().untilMs) {
      return Future.succeededFuture(pace(t, t.pace().untilMs - now));
    }
    // The breaker before the pace: open, or half-open with its probe under way, the entry waits without a token.
    Runnable done = t.gate().pass();
    if (done == null) {
      return Future.succeededFuture(waitForBreaker(t));
    }
    t.busy().incrementAndGet();
    busy.incrementAndGet();
    // Redis unreachable: the pace cannot be checked, so the entry waits (it stays pending; no attempt is spent).
    return rate.take(name, t.endpoint().ratePerSec(), now)
      .transform(ar -> {
        if (ar.failed()) {
          return Future.succeededFuture(Outcome.keep(1_000));
        }
        DestinationRate.Token token = ar.result();
        if (!token.granted()) {
          t.pace().heldBackAtMs = now;
          return Future.succeededFuture(pace(t, token.nextMs()));
        }
        if (token.nextMs() > 0) {
          // The bucket is empty after this one: the next delivery asks when the next token is due, not before.
          pace(t, token.nextMs());
        } else if (now - t.pace().heldBackAtMs < RECENTLY_HELD_BACK_MS) {
          // Tokens left while deliveries may be parked for the pace or the breaker: offer the next one now rather than
          // after this one's answer, or such a destination would be sent to one request at a time.
          free(name);
        }
        return owned(ownership, t, id, e);
      })
      .onComplete(ar -> {
        done.run();
        t.busy().decrementAndGet();
        busy.decrementAndGet();
        free(name);
      });
  }

  /** Deliveries may be parked for a destination's pace or breaker this long after one was last held back. */
  private static final long RECENTLY_HELD_BACK_MS = 2_000;

  private void free(String name) {
    freed.forEach(l -> l.accept(name));
  }

  /**
   * No token before {@code ms} from now: the delivery is parked (outside the slots, oldest first), and one timer for
   * the destination offers a parked one again when the token is due.
   */
  private Outcome pace(Target t, long ms) {
    long due = System.currentTimeMillis() + ms;
    if (due > t.pace().untilMs) {
      t.pace().untilMs = due;
    }
    if (t.pace().timer.compareAndSet(false, true)) {
      String name = t.endpoint().name();
      vertx.setTimer(Math.max(1, t.pace().untilMs - System.currentTimeMillis()), id -> {
        t.pace().timer.set(false);
        if (System.currentTimeMillis() < t.pace().untilMs) {
          pace(t, t.pace().untilMs - System.currentTimeMillis());
        } else {
          free(name);
        }
      });
    }
    return Outcome.park(t.endpoint().name());
  }

  /**
   * How many deliveries to {@code t} one instance works on at once (from its pace check to its recorded answer): half
   * the slots the other destinations' deliveries leave, at least one; the next are parked ({@link Outcome#park})
   * outside the engine's slots until one of these finishes. A destination answering in 9 s held every slot on the
   * wire, and the others waited for its answers; with a share, one slow destination takes at most half the slots, a
   * second a quarter, and some are always left.
   */
  private int share(Target t) {
    int others = busy.get() - t.busy().get();
    return Math.max(1, (HELD - others) / 2);
  }

  /**
   * A delivery queued by another instance for a destination this one does not know (a rolling change of the list).
   * While a live instance announces the destination ({@link DestinationDirectory}), it is kept without an attempt: it
   * goes idle and that instance takes it over. When none does (the destination was removed everywhere), it is dead-lettered at once, replayable; kept,
   * a removed destination's backlog would fill every instance's delivery slots and stall the other destinations.
   */
  private Future<Outcome> elsewhere(String destination) {
    if (destination == null) {
      return Future.succeededFuture(Outcome.dead("destination not configured"));
    }
    return directory.liveElsewhere(destination).transform(ar -> Future.succeededFuture(
      ar.failed() ? Outcome.keep(1_000) : ar.result() ? Outcome.keep(1_000).onReceiver(destination) : Outcome.dead("destination not configured")));
  }

  private Future<Outcome> owned(Ownership ownership, Target t, String id, StreamEntry e) {
    // Redis unreachable: ownership cannot be confirmed, so nothing is sent and the entry waits.
    return ownership.confirm().transform(ar -> ar.failed() ? Future.succeededFuture(Outcome.keep(1_000))
      : ar.result() ? unlessDelivered(t, id, e) : Future.succeededFuture(Outcome.keep()));
  }

  /**
   * The attempt, unless the delivery's log already holds a 2xx: the log is written before the entry is acknowledged,
   * and the acknowledgement alone can be lost (a Sentinel switch drops what the old master had not replicated), which
   * brings the entry back pending. A drill saw 27 deliveries sent again that way.
   */
  private Future<Outcome> unlessDelivered(Target t, String id, StreamEntry e) {
    return redis.send(Request.cmd(Command.LRANGE).arg(OutboundKeys.attempts(id)).arg(0).arg(-1)).transform(ar -> {
      if (ar.failed()) {
        return Future.succeededFuture(Outcome.keep(1_000));
      }
      if (ar.result() != null) {
        for (Response a : ar.result()) {
          int status = new JsonObject(a.toString()).getInteger("status", 0);
          if (status / 100 == 2) {
            return Future.succeededFuture(Outcome.done());
          }
        }
      }
      return attempt(t, id, e);
    });
  }

  private Future<Outcome> attempt(Target t, String id, StreamEntry e) {
    Buffer body = body(e);
    long startMs = System.currentTimeMillis();
    long startNs = System.nanoTime();
    return t.breaker().<Integer>execute(() -> send(t, id, startMs / 1000, body))
      .transform(ar -> {
        JsonObject attempt = new JsonObject().put("at", Instant.ofEpochMilli(startMs).toString())
          .put("duration_ms", (System.nanoTime() - startNs) / 1_000_000);
        if (ar.succeeded() && rejects(ar.result())) {
          // The destination is up and refuses this event: an attempt of this event, whatever the breaker's state.
          // Counted for the breaker, rejections opened it, and the rejected entry was then its probe forever: a
          // failed probe costs no attempt, so it was never dead-lettered and the destination stalled.
          return record(id, attempt.put("status", ar.result())).map(Outcome.retry("destination answered " + ar.result()).onReceiver(t.endpoint().name()));
        }
        if (ar.succeeded()) {
          return record(id, attempt.put("status", ar.result())).map(Outcome.done());
        }
        if (ar.cause() instanceof OpenCircuitException) {
          return Future.succeededFuture(waitForBreaker(t));
        }
        // A failure that opened the breaker, or a failed half-open probe: the destination is down, no fault of this
        // event. Recorded, and kept like the events the open breaker holds back, without spending an attempt: the
        // event that opened the breaker used to spend its attempts on it, and a probe one per probe.
        boolean down = t.breaker().state() != CircuitBreakerState.CLOSED;
        if (ar.cause() instanceof Refused) {
          Refused refused = (Refused) ar.cause();
          return record(id, attempt.put("status", refused.status))
            .map(down ? waitForBreaker(t) : Outcome.retry(refused.getMessage()).onReceiver(t.endpoint().name()));
        }
        String reason = "no answer (" + ar.cause().getClass().getSimpleName() + ")";
        return record(id, attempt.put("error", reason))
          .map(down ? waitForBreaker(t) : Outcome.retry(reason).onReceiver(t.endpoint().name()));
      });
  }

  /**
   * The destination is down: the entry waits for its breaker, without spending an attempt, parked; one timer for the
   * destination offers a parked one again every second (at most), the breaker's probe once it lets one through.
   */
  private Outcome waitForBreaker(Target t) {
    t.pace().heldBackAtMs = System.currentTimeMillis();
    if (t.pace().breakerTimer.compareAndSet(false, true)) {
      String name = t.endpoint().name();
      vertx.setTimer(Math.max(1, Math.min(1_000, options.breakerResetMs())), id -> {
        t.pace().breakerTimer.set(false);
        free(name);
      });
    }
    return Outcome.park(t.endpoint().name());
  }

  private Future<Integer> send(Target t, String id, long ts, Buffer body) {
    HttpRequest<Buffer> req = client.postAbs(t.endpoint().url()).as(OutboundCalls.DISCARDED_BODY).timeout(options.timeoutMs())
      .putHeader("Content-Type", "application/json")
      .putHeader(StandardWebhooks.ID, id)
      .putHeader(StandardWebhooks.TIMESTAMP, Long.toString(ts));
    String sig = StandardWebhooks.signature(t.endpoint().secrets(), id, ts, body.getBytes());
    if (sig != null) {
      req.putHeader(StandardWebhooks.SIGNATURE, sig);
    }
    return req.sendBuffer(body).compose(r -> r.statusCode() / 100 == 2 || rejects(r.statusCode())
      ? Future.succeededFuture(r.statusCode()) : Future.failedFuture(new Refused(r.statusCode())));
  }

  /**
   * An answer that proves the destination up but refuses this event: a 4xx other than {@code 408} (it timed out
   * waiting for the request) and {@code 429} (it wants fewer requests), which say nothing about the event. The
   * breaker's call succeeds with it (a rejected probe closes the breaker); the event spends an attempt.
   */
  static boolean rejects(int status) {
    return status / 100 == 4 && status != 408 && status != 429;
  }

  /** {@code {"type","timestamp","data","source"}}: the same bytes on every attempt. */
  static Buffer body(StreamEntry e) {
    long received = parse(e.get("received"));
    Object data;
    try {
      data = e.json("body");
    } catch (RuntimeException notJson) {
      data = new JsonObject();
    }
    return new JsonObject().put("type", e.get("type")).put("timestamp", Instant.ofEpochMilli(received).toString())
      .put("data", data).put("source", new JsonObject().put("provider", e.get("provider")).put("delivery_id", e.get("delivery_id")))
      .toBuffer();
  }

  private Future<Void> record(String id, JsonObject attempt) {
    String key = OutboundKeys.attempts(id);
    return redis.batch(List.of(Request.cmd(Command.RPUSH).arg(key).arg(attempt.encode()),
        Request.cmd(Command.LTRIM).arg(key).arg(-MAX_ATTEMPTS_KEPT).arg(-1),
        Request.cmd(Command.EXPIRE).arg(key).arg(ttlS)))
      .<Void>mapEmpty().otherwiseEmpty();
  }

  /** Breaker state per destination, for the admin API. */
  public JsonObject describe() {
    JsonObject out = new JsonObject();
    targets.forEach((name, t) -> out.put(name, t.endpoint().toJson().put("breaker", t.breaker().state().name())));
    return out;
  }

  public void close() {
    targets.values().forEach(t -> t.breaker().close());
    client.close();
  }

  private static long parse(String s) {
    try {
      return s == null ? 0 : Long.parseLong(s);
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
