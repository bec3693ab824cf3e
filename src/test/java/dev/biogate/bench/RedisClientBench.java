package dev.biogate.bench;

import dev.biogate.config.RedisConfig;
import dev.biogate.redis.RedisClients;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Benchmark, not a test: the pooled vertx-redis-client ({@code Redis.createClient(...).send}, what the gateway used
 * before) against {@code RedisClients.create} (one multiplexed connection) on the test JVM's real 3+3 Redis
 * Cluster. Per client: GET/SET throughput and latency at a given concurrency, then the same load on keys of the
 * two surviving masters while the third is killed (failures, worst latency, until its replica takes over). Run:
 * {@code java -cp target/classes:target/test-classes:$(cat cp.txt) dev.biogate.bench.RedisClientBench [seconds] [concurrency]}
 */
public final class RedisClientBench {

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    Vertx vertx = Vertx.vertx();
    for (String kind : List.of("pooled", "multiplexed")) {
      TestCluster cluster = TestCluster.get();
      RedisConfig config = new RedisConfig(cluster.redisConfig());
      Redis redis = kind.equals("pooled") ? Redis.createClient(vertx, RedisClients.options(config)) : RedisClients.create(vertx, config);
      List<String> all = keys(200);
      run(redis, all, 3, concurrency); // warm-up
      Result r = run(redis, all, seconds, concurrency);
      System.out.printf("%-11s steady: %s%n", kind, r);
      RedisProcess victim = cluster.masterOf(all.get(0));
      List<String> survivors = new ArrayList<>();
      for (String k : all) {
        if (!cluster.masterOf(k).equals(victim)) {
          survivors.add(k);
        }
      }
      long killedAt = System.nanoTime();
      Thread killer = new Thread(victim::kill);
      killer.start();
      Result dead = run(redis, survivors, 5, concurrency);
      killer.join();
      System.out.printf("%-11s other masters' keys, 5 s after killing %s: %s%n", kind, victim, dead);
      System.out.printf("%-11s (kill issued %.0f ms into that window)%n", kind, (System.nanoTime() - killedAt) / 1e6 - 5000);
      redis.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static List<String> keys(int n) {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      keys.add("bench:{k" + i + "}");
    }
    return keys;
  }

  record Result(int ok, int failed, double seconds, long p50Ns, long p99Ns, long maxNs) {
    @Override
    public String toString() {
      return String.format("%d ok (%.0f/s), %d failed, latency p50 %.2f ms, p99 %.2f ms, max %.0f ms", ok, ok / seconds,
        failed, p50Ns / 1e6, p99Ns / 1e6, maxNs / 1e6);
    }
  }

  /** {@code concurrency} loops of SET then GET on random keys for {@code seconds}; each call capped at 10 s. */
  private static Result run(Redis redis, List<String> keys, int seconds, int concurrency) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    List<Long> lat = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger failed = new AtomicInteger();
    List<Future<Void>> loops = new ArrayList<>();
    for (int c = 0; c < concurrency; c++) {
      Promise<Void> done = Promise.promise();
      loop(redis, keys, end, lat, failed, done, c);
      loops.add(done.future());
    }
    Future.all(loops).toCompletionStage().toCompletableFuture().get(seconds + 30L, TimeUnit.SECONDS);
    List<Long> sorted = new ArrayList<>(lat);
    Collections.sort(sorted);
    int n = sorted.size();
    return new Result(n, failed.get(), seconds, n == 0 ? 0 : sorted.get(n / 2), n == 0 ? 0 : sorted.get((int) (n * 0.99)),
      n == 0 ? 0 : sorted.get(n - 1));
  }

  private static void loop(Redis redis, List<String> keys, long end, List<Long> lat, AtomicInteger failed, Promise<Void> done, int seed) {
    if (System.nanoTime() > end) {
      done.complete();
      return;
    }
    String key = keys.get(Math.floorMod(seed * 31 + lat.size(), keys.size()));
    long t0 = System.nanoTime();
    Request req = (lat.size() & 1) == 0 ? Request.cmd(Command.SET).arg(key).arg("v") : Request.cmd(Command.GET).arg(key);
    redis.send(req).timeout(10, TimeUnit.SECONDS).onComplete(ar -> {
      if (ar.succeeded()) {
        lat.add(System.nanoTime() - t0);
      } else {
        failed.incrementAndGet();
      }
      loop(redis, keys, end, lat, failed, done, seed + 1);
    });
  }
}
