package dev.biogate.http;

import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.RetryPolicy;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.streams.WriteStream;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.client.impl.HttpContext;
import io.vertx.ext.web.client.impl.WebClientInternal;
import io.vertx.ext.web.codec.BodyCodec;
import io.vertx.ext.web.codec.spi.BodyStream;

import java.util.concurrent.TimeoutException;

/**
 * How the gateway calls other services over HTTP (Linktree, Klaviyo, outbound destinations): one client shape and one
 * circuit-breaker shape, so every caller connects, keeps connections and trips the same way.
 */
public final class OutboundCalls {

  /**
   * The most bytes an answer from another service may have (a Linktree profile page is a few KiB): a larger one fails
   * the call and closes its connection once that many bytes have come, instead of being read whole into the heap (a
   * 400 MB answer ran a 160 MiB heap out of memory and the process exited).
   */
  public static final int MAX_ANSWER_BYTES = 4 * 1024 * 1024;
  /** Reads an answer into one buffer, up to {@link #MAX_ANSWER_BYTES}. Every request of a {@link #client} uses it. */
  public static final BodyCodec<Buffer> BOUNDED_BODY = new BoundedBody(MAX_ANSWER_BYTES, true);
  /**
   * Reads an answer whose bytes nobody needs (a destination's, Klaviyo's: only the status counts) and keeps none of
   * them: held at {@link #MAX_ANSWER_BYTES} each, 64 destination deliveries at once answered 4 MiB apiece ran a
   * 160 MiB heap out of memory, and the deliveries, still pending, did it again after every restart.
   */
  public static final BodyCodec<Buffer> DISCARDED_BODY = new BoundedBody(Integer.MAX_VALUE, false);
  private static final String DEADLINE = "biogate.deadline";
  private static final String DEADLINE_TIMER = "biogate.deadlineTimer";

  private OutboundCalls() {
  }

  /**
   * A client for calls to another service, which a misbehaving (or impersonated) service cannot hold or flood:
   * <ul>
   *   <li>redirects are not followed: a followed redirect carried the request's {@code Authorization} (the Linktree
   *       token, the Klaviyo key) to whatever host it named; a 3xx is an answer like any other, a failure to the caller;</li>
   *   <li>each exchange ends within its request's {@code timeout}, counted from when the request is prepared: Vert.x's
   *       request timeout restarts with every byte that arrives, so an answer trickled a byte every few seconds held a
   *       profile read for as long as it went on; at the deadline the request is reset (its connection closed) and
   *       the call fails with a {@link TimeoutException};</li>
   *   <li>answers are read with {@link #BOUNDED_BODY}, or dropped as they come with {@link #DISCARDED_BODY}: a request
   *       set to read them any other way fails before it is sent.</li>
   * </ul>
   */
  public static WebClient client(Vertx vertx, WebClientOptions options, PoolOptions pool) {
    WebClient client = WebClient.create(vertx, options.setFollowRedirects(false), pool);
    ((WebClientInternal) client).addInterceptor(ctx -> bound(vertx, ctx));
    return client;
  }

  private static void bound(Vertx vertx, HttpContext<?> ctx) {
    switch (ctx.phase()) {
      case PREPARE_REQUEST:
        if (ctx.request().bodyCodec() != BOUNDED_BODY && ctx.request().bodyCodec() != DISCARDED_BODY) {
          ctx.fail(new IllegalStateException("an outbound answer must be read with OutboundCalls.BOUNDED_BODY or DISCARDED_BODY"));
          return;
        }
        long timeout = ctx.request().timeout();
        if (timeout > 0) {
          ctx.set(DEADLINE, System.nanoTime() + timeout * 1_000_000L);
        }
        break;
      case SEND_REQUEST:
        Long deadline = ctx.get(DEADLINE);
        HttpClientRequest req = ctx.clientRequest();
        if (deadline != null && req != null) {
          long timeoutMs = ctx.request().timeout();
          long leftMs = Math.max(1, (deadline - System.nanoTime()) / 1_000_000L);
          ctx.set(DEADLINE_TIMER, vertx.setTimer(leftMs, t ->
            req.reset(0, new TimeoutException("the answer did not end within the request's " + timeoutMs + " ms (timeout)"))));
        }
        break;
      case DISPATCH_RESPONSE:
      case FAILURE:
        Long timer = ctx.get(DEADLINE_TIMER);
        if (timer != null) {
          ctx.set(DEADLINE_TIMER, null);
          vertx.cancelTimer(timer);
        }
        break;
      default:
        break;
    }
    ctx.next();
  }

  /** Keep-alive, {@code User-Agent: biogate}, and a connect timeout of {@code connectTimeoutMs} (capped to an int). */
  public static WebClientOptions clientOptions(long connectTimeoutMs) {
    return new WebClientOptions().setUserAgent("biogate").setKeepAlive(true)
      .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, connectTimeoutMs));
  }

  /**
   * The back-off before attempt {@code attempts + 1} under {@code policy} (exponential, full jitter): the policy
   * doubles its base per attempt in a long, which overflows at the 62nd doubling (an exception, "bound must be greater
   * than origin"), so the doublings stop at 30, past which any base of a millisecond or more is at its maximum.
   */
  public static long backoffMs(RetryPolicy policy, int attempts) {
    return policy.delay(null, Math.min(attempts, 30));
  }

  /**
   * A breaker that opens after {@code maxFailures} failures within a rolling window of ten reset periods (at least one
   * second) and lets a probe through after {@code resetMs}. It neither times out nor retries calls itself: each caller
   * sets its request timeout and owns its retry policy.
   */
  public static CircuitBreaker breaker(Vertx vertx, String name, int maxFailures, long resetMs) {
    return CircuitBreaker.create(name, vertx, new CircuitBreakerOptions()
      .setMaxFailures(maxFailures)
      .setResetTimeout(resetMs)
      .setTimeout(-1)
      .setMaxRetries(0)
      .setFailuresRollingWindow(Math.max(1000, resetMs * 10)));
  }

  /**
   * The answer's bytes in one buffer ({@code keep}; else none, an empty buffer); more than {@code max} of them fail it
   * (and, through the client, reset the request).
   */
  private static final class BoundedBody implements BodyCodec<Buffer> {

    private final int max;
    private final boolean keep;

    BoundedBody(int max, boolean keep) {
      this.max = max;
      this.keep = keep;
    }

    @Override
    public BodyStream<Buffer> stream() {
      return new BodyStream<>() {
        private final Buffer body = Buffer.buffer();
        private final Promise<Buffer> result = Promise.promise();

        @Override
        public Future<Buffer> result() {
          return result.future();
        }

        @Override
        public void handle(Throwable failure) {
          result.tryFail(failure);
        }

        @Override
        public Future<Void> write(Buffer data) {
          if (!keep) {
            return Future.succeededFuture();
          }
          if (body.length() + (long) data.length() > max) {
            IllegalStateException tooLarge = new IllegalStateException("the answer is larger than " + max + " bytes");
            result.tryFail(tooLarge);
            return Future.failedFuture(tooLarge);
          }
          body.appendBuffer(data);
          return Future.succeededFuture();
        }

        @Override
        public Future<Void> end() {
          result.tryComplete(body);
          return Future.succeededFuture();
        }

        @Override
        public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
          return this;
        }

        @Override
        public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
          return this;
        }

        @Override
        public boolean writeQueueFull() {
          return false;
        }

        @Override
        public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
          return this;
        }
      };
    }
  }
}
