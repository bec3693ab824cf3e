package dev.biogate.sink;

import dev.biogate.config.KlaviyoOptions;
import dev.biogate.http.BreakerGate;
import dev.biogate.http.OutboundCalls;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

/**
 * Klaviyo's API as the sink calls it: {@code Authorization: Klaviyo-API-Key <key>}, the pinned {@code revision},
 * JSON:API content type, a request timeout, and its own circuit breaker. Only Klaviyo faults (5xx, 408, timeouts,
 * connection failures) count against the breaker; a 429, a 401/403 or a rejected event are answers, not outages.
 */
final class KlaviyoClient {

  /** What one send came to. */
  enum Kind { SENT, RATE_LIMITED, FAULT, CIRCUIT_OPEN, AUTH, REJECTED }

  record Result(Kind kind, int status, long retryAfterMs) {
  }

  static final String JSON_API = "application/vnd.api+json";
  private static final long MAX_RETRY_AFTER_MS = 3_600_000;

  /** A Klaviyo fault inside the breaker. Stackless: outages produce many. */
  static final class Fault extends VertxException {
    final int status;

    Fault(int status) {
      super("klaviyo answered " + status, true);
      this.status = status;
    }
  }

  private final KlaviyoOptions options;
  private final WebClient client;
  private final CircuitBreaker breaker;
  private final BreakerGate gate;
  private final String authorization;
  /** Duration of the latest request, for {@code /health}: written by the event loop, read by probes. */
  private volatile long lastLatencyMs;

  KlaviyoClient(Vertx vertx, KlaviyoOptions options) {
    this.options = options;
    this.client = OutboundCalls.client(vertx, OutboundCalls.clientOptions(options.requestTimeoutMs()),
      new PoolOptions().setHttp1MaxSize(Math.max(4, options.concurrency())));
    this.authorization = "Klaviyo-API-Key " + (options.privateKey() == null ? "" : options.privateKey().reveal());
    this.breaker = OutboundCalls.breaker(vertx, "klaviyo", options.breakerMaxFailures(), options.breakerResetMs());
    this.gate = new BreakerGate(breaker);
  }

  /** {@code POST /api/events/}. Never fails: every outcome is a {@link Result}. */
  Future<Result> sendEvent(Buffer body) {
    return breaker.<Result>execute(() -> {
        long start = System.nanoTime();
        return headers(client.postAbs(options.apiBase() + "/api/events/"))
          .putHeader("Content-Type", JSON_API)
          .sendBuffer(body)
          .onComplete(ar -> lastLatencyMs = (System.nanoTime() - start) / 1_000_000)
          .compose(KlaviyoClient::classify);
      })
      .recover(err -> Future.succeededFuture(err instanceof OpenCircuitException ? new Result(Kind.CIRCUIT_OPEN, 0, 0)
        : new Result(Kind.FAULT, err instanceof Fault ? ((Fault) err).status : 0, 0)));
  }

  /** How long the latest request to Klaviyo took (answered or not), in milliseconds; 0 before the first. */
  long lastLatencyMs() {
    return lastLatencyMs;
  }

  /** {@code GET /api/accounts/}: the status code, to check the key (health, preflight, resuming a paused sink). */
  Future<Integer> checkAccount() {
    return headers(client.getAbs(options.apiBase() + "/api/accounts/")).send().map(HttpResponse::statusCode);
  }

  /** The breaker, to be asked before a permit of the rate is spent. */
  BreakerGate gate() {
    return gate;
  }

  CircuitBreakerState breakerState() {
    return breaker.state();
  }

  void close() {
    breaker.close();
    client.close();
  }

  private HttpRequest<Buffer> headers(HttpRequest<Buffer> request) {
    return request.as(OutboundCalls.DISCARDED_BODY).putHeader("Authorization", authorization)
      .putHeader("revision", options.revision())
      .putHeader("Accept", JSON_API)
      .timeout(options.requestTimeoutMs());
  }

  private static Future<Result> classify(HttpResponse<Buffer> r) {
    int s = r.statusCode();
    if (s >= 200 && s < 300) {
      return Future.succeededFuture(new Result(Kind.SENT, s, 0));
    }
    if (s == 429) {
      return Future.succeededFuture(new Result(Kind.RATE_LIMITED, s, retryAfterMs(r.getHeader("Retry-After"))));
    }
    if (s == 401 || s == 403) {
      return Future.succeededFuture(new Result(Kind.AUTH, s, 0));
    }
    if (s == 408 || s >= 500) {
      return Future.failedFuture(new Fault(s));
    }
    return Future.succeededFuture(new Result(Kind.REJECTED, s, 0));
  }

  /** {@code Retry-After} in seconds (Klaviyo's form), 1 s when absent or unreadable, at most an hour. */
  static long retryAfterMs(String header) {
    if (header != null) {
      try {
        return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, (long) (Double.parseDouble(header.trim()) * 1000)));
      } catch (NumberFormatException ignored) {
        // an HTTP-date: fall through to the default
      }
    }
    return 1_000;
  }
}
