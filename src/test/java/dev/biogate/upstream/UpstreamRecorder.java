package dev.biogate.upstream;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A pass-through in front of the sandbox upstream that notes when each request arrived, so a test can compute the
 * most calls in any rolling window exactly (the sandbox's own statistics are per second).
 */
final class UpstreamRecorder {

  private final Vertx vertx;
  private final int target;
  private final List<Long> arrivals = Collections.synchronizedList(new ArrayList<>());
  private HttpServer server;
  private HttpClient client;

  UpstreamRecorder(Vertx vertx, int targetPort) {
    this.vertx = vertx;
    this.target = targetPort;
  }

  Future<UpstreamRecorder> start() {
    client = vertx.createHttpClient(new PoolOptions().setHttp1MaxSize(64));
    server = vertx.createHttpServer().requestHandler(req -> {
      arrivals.add(System.nanoTime());
      req.body().compose(body -> client.request(new RequestOptions().setMethod(req.method()).setHost("127.0.0.1")
          .setPort(target).setURI(req.uri()).setHeaders(req.headers()))
        .compose(out -> out.send(body)).compose(resp -> resp.body().map(b -> {
          req.response().setStatusCode(resp.statusCode()).headers().addAll(headersOf(resp));
          req.response().end(b);
          return null;
        })))
        .onFailure(err -> req.response().setStatusCode(502).end());
    });
    return server.listen(0, "127.0.0.1").map(this);
  }

  private static io.vertx.core.MultiMap headersOf(HttpClientResponse resp) {
    io.vertx.core.MultiMap h = io.vertx.core.MultiMap.caseInsensitiveMultiMap().addAll(resp.headers());
    h.remove("Content-Length");
    h.remove("Transfer-Encoding");
    return h;
  }

  int port() {
    return server.actualPort();
  }

  int calls() {
    return arrivals.size();
  }

  /** The most requests that arrived within any window of {@code windowMs}. */
  int maxInAnyWindow(long windowMs) {
    List<Long> at;
    synchronized (arrivals) {
      at = new ArrayList<>(arrivals);
    }
    Collections.sort(at);
    long window = windowMs * 1_000_000L;
    int best = 0;
    int from = 0;
    for (int to = 0; to < at.size(); to++) {
      while (at.get(to) - at.get(from) >= window) {
        from++;
      }
      best = Math.max(best, to - from + 1);
    }
    return best;
  }

  Future<Void> close() {
    return server.close().eventually(() -> client.close());
  }
}
