package dev.biogate.bench;

import dev.biogate.redis.EmbeddedRedis;
import dev.biogate.upstream.Lane;
import dev.biogate.upstream.LaneShares;
import dev.biogate.upstream.RedisBudget;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Benchmark, not a test: limiter decisions per second from one instance against a local Redis, and the latency one
 * decision adds to a cache miss (acquire, then settle when the call completes). Run:
 * {@code java -cp target/classes:target/test-classes:$(cat cp.txt) dev.biogate.bench.LimiterBench [seconds] [concurrency]}
 */
public final class LimiterBench {

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    EmbeddedRedis server = EmbeddedRedis.start();
    Vertx vertx = Vertx.vertx();
    Redis redis = Redis.createClient(vertx, new RedisOptions().setConnectionString(server.url()).setMaxPoolSize(8).setMaxPoolWaiting(10_000));
    // A budget that never denies, so every call is a full decision (trim, count, add) plus a settle.
    RedisBudget budget = new RedisBudget(vertx, redis, "bench", 50_000_000, 60_000, 10_000, LaneShares.defaults());
    run(vertx, budget, 3, concurrency); // warm-up
    long[] lat = run(vertx, budget, seconds, concurrency);
    Arrays.sort(lat);
    System.out.printf("decisions: %d in %d s = %.0f/s (concurrency %d); per decision acquire+settle latency p50 %.3f ms, p99 %.3f ms%n",
      lat.length, seconds, lat.length / (double) seconds, concurrency, lat[lat.length / 2] / 1e6, lat[(int) (lat.length * 0.99)] / 1e6);
    vertx.close().await();
    server.stop();
  }

  private static long[] run(Vertx vertx, RedisBudget budget, int seconds, int concurrency) throws Exception {
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    long[] lat = new long[20_000_000];
    AtomicInteger n = new AtomicInteger();
    Promise<Void> done = Promise.promise();
    AtomicInteger live = new AtomicInteger(concurrency);
    vertx.runOnContext(v -> {
      for (int i = 0; i < concurrency; i++) {
        loop(budget, end, lat, n, live, done);
      }
    });
    done.future().toCompletionStage().toCompletableFuture().get();
    return Arrays.copyOf(lat, n.get());
  }

  private static void loop(RedisBudget budget, long end, long[] lat, AtomicInteger n, AtomicInteger live, Promise<Void> done) {
    if (System.nanoTime() > end) {
      if (live.decrementAndGet() == 0) {
        done.complete();
      }
      return;
    }
    long start = System.nanoTime();
    budget.acquire(Lane.FOREGROUND).compose(permit -> {
      permit.settle();
      return Future.succeededFuture();
    }).onComplete(ar -> {
      if (ar.succeeded()) {
        int i = n.getAndIncrement();
        if (i < lat.length) {
          lat[i] = System.nanoTime() - start;
        }
      }
      // Continue on a fresh stack: a locally answered decision completes synchronously.
      io.vertx.core.Vertx.currentContext().runOnContext(x -> loop(budget, end, lat, n, live, done));
    });
  }
}
