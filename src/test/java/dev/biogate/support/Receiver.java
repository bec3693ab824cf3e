package dev.biogate.support;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * A loopback HTTP endpoint playing what the gateway forwards to (an alert sink, a destination): it answers every
 * request with the status it is currently set to and records the request with that status. Get one from
 * {@link Harness#receiver(int)}, which closes it after the gateways.
 */
public final class Receiver {

  /** The header naming the event a gateway forwards. */
  public static final String DELIVERY_HEADER = "X-Biogate-Delivery";

  /** One request as received, with the status it was answered. */
  public record Received(String path, MultiMap headers, String body, int status) {
    public String header(String name) {
      return headers.get(name);
    }
  }

  private final Vertx vertx;
  private final HttpServer server;
  private final AtomicInteger status;
  private final AtomicLong delayMs = new AtomicLong();
  private final List<Received> received = new CopyOnWriteArrayList<>();

  private Receiver(Vertx vertx, int status) {
    this.vertx = vertx;
    this.status = new AtomicInteger(status);
    this.server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      int answer = this.status.get();
      received.add(new Received(req.path(), MultiMap.caseInsensitiveMultiMap().addAll(req.headers()), body.toString(), answer));
      long delay = delayMs.get();
      if (delay > 0) {
        vertx.setTimer(delay, t -> req.response().setStatusCode(answer).end());
      } else {
        req.response().setStatusCode(answer).end();
      }
    }));
  }

  static Future<Receiver> start(Vertx vertx, int status) {
    Receiver r = new Receiver(vertx, status);
    return r.server.listen(0, "127.0.0.1").map(r);
  }

  /** {@code http://127.0.0.1:<port><path>}. */
  public String url(String path) {
    return "http://127.0.0.1:" + server.actualPort() + path;
  }

  /** Answer every later request with {@code status}. */
  public void answer(int status) {
    this.status.set(status);
  }

  /** Answer every later request only after {@code ms} (a slow receiver). */
  public void delay(long ms) {
    delayMs.set(ms);
  }

  /** Every request so far, in arrival order. */
  public List<Received> received() {
    return List.copyOf(received);
  }

  /** The requests answered {@code status}. */
  public List<Received> answered(int status) {
    return received.stream().filter(r -> r.status() == status).toList();
  }

  /** The distinct events ({@value #DELIVERY_HEADER}) answered 200: what was delivered. */
  public Set<String> delivered() {
    return answered(200).stream().map(r -> r.header(DELIVERY_HEADER)).collect(Collectors.toSet());
  }

  Future<Void> close() {
    return server.close();
  }
}
