package dev.biogate.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An outbound destination's receiving end for tests: a Vert.x server on an ephemeral port answering every delivery
 * with {@link #status} (after {@link #delayMs}, when set), or {@link #rejectStatus} for the deliveries it
 * {@link #rejected}, and remembering what it got.
 */
public final class Receiver {

  /** One request: the status it was answered with, its {@code webhook-id}, the event's delivery id, when it arrived. */
  public record Request(int answered, String webhookId, String deliveryId, long atMs) {
  }

  /** What every delivery is answered with; a test changes it to make the destination fail or recover. */
  public final AtomicInteger status = new AtomicInteger(200);
  /**
   * Delivery ids the destination refuses for good: answered {@link #rejectStatus} while {@link #status} is a 2xx
   * (a destination that is up but rejects those events, e.g. a schema it does not accept).
   */
  public final Set<String> rejected = ConcurrentHashMap.newKeySet();
  public final AtomicInteger rejectStatus = new AtomicInteger(422);
  /** How long each answer waits (0: at once). */
  public final AtomicLong delayMs = new AtomicLong();
  public final List<Request> requests = new CopyOnWriteArrayList<>();
  /** While set, requests are answered only at {@link #release()}; guarded by {@link #held}. */
  private boolean holding;
  private final List<Runnable> held = new java.util.ArrayList<>();
  private final Vertx vertx;
  private HttpServer server;

  public Receiver(Vertx vertx) {
    this.vertx = vertx;
  }

  public Future<Receiver> start() {
    server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      String deliveryId = new JsonObject(b).getJsonObject("source").getString("delivery_id");
      int up = status.get();
      int s = up / 100 == 2 && rejected.contains(deliveryId) ? rejectStatus.get() : up;
      requests.add(new Request(s, req.getHeader("webhook-id"), deliveryId, System.currentTimeMillis()));
      if (held(() -> req.response().setStatusCode(s).end())) {
        return;
      }
      if (delayMs.get() > 0) {
        vertx.setTimer(delayMs.get(), t -> req.response().setStatusCode(s).end());
      } else {
        req.response().setStatusCode(s).end();
      }
    }));
    return server.listen(0, "127.0.0.1").map(this);
  }

  private boolean held(Runnable answer) {
    synchronized (held) {
      if (holding) {
        held.add(answer);
      }
      return holding;
    }
  }

  /** Answers nothing until {@link #release()}: a destination that takes as long as the test wants to answer. */
  public void hold() {
    synchronized (held) {
      holding = true;
    }
  }

  /** How many requests are held unanswered now. */
  public int holdingNow() {
    synchronized (held) {
      return held.size();
    }
  }

  /** Answers every held request and stops holding. */
  public void release() {
    List<Runnable> answers;
    synchronized (held) {
      holding = false;
      answers = new java.util.ArrayList<>(held);
      held.clear();
    }
    answers.forEach(Runnable::run);
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** A {@code destinations} config section with this receiver as destination {@code name}, wanting {@code events}. */
  public JsonObject destinations(String name, String... events) {
    return new JsonObject().put("endpoints", new JsonArray().add(new JsonObject().put("name", name)
      .put("url", "http://127.0.0.1:" + server.actualPort() + "/" + name).put("events", new JsonArray(List.of((Object[]) events)))));
  }

  /** The delivery ids answered 2xx (each once, however often). */
  public Set<String> delivered() {
    Set<String> ids = ConcurrentHashMap.newKeySet();
    requests.stream().filter(r -> r.answered() / 100 == 2).forEach(r -> ids.add(r.deliveryId()));
    return ids;
  }

  /** How many requests were answered 2xx. */
  public long deliveries() {
    return requests.stream().filter(r -> r.answered() / 100 == 2).count();
  }
}
