package dev.biogate.bench;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.Harness;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.TestCluster;
import dev.biogate.support.Topology;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Benchmark, not a test: webhook ingest on the test JVM's real 3+3 Redis Cluster with the same two gateway
 * instances and the same load, once with {@code webhooks.shards = 1} (one hash tag: every ingest key on ONE master,
 * as before sharding) and once with the default 16 shards (spread over all three masters). Prints deliveries
 * accepted per second (HTTP 200, deduplicated and queued), the rate at which they were handled, and the commands each
 * master served (INFO commandstats before/after; the mixed load is ingest + consumers + click counters). Run:
 * {@code java -cp target/classes:target/test-classes:$(cat cp.txt) dev.biogate.bench.ShardedIngestBench [deliveries] [concurrency]}
 */
public final class ShardedIngestBench {

  public static void main(String[] args) throws Exception {
    int total = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    Vertx vertx = Vertx.vertx();
    for (int shards : new int[] {1, 16, 1, 16}) {
      System.out.println(run(vertx, shards, total, concurrency));
    }
    vertx.close().await(10, TimeUnit.SECONDS);
    System.exit(0);
  }

  private static String run(Vertx vertx, int shards, int total, int concurrency) throws Exception {
    TestCluster cluster = TestCluster.get();
    Harness h = new Harness(vertx);
    JsonObject cfg = Deliveries.config().put("webhooks", Deliveries.webhooks().put("shards", shards));
    h.start(Topology.CLUSTER).await(60, TimeUnit.SECONDS);
    Gateway a = h.gateway(cfg).await(60, TimeUnit.SECONDS);
    Gateway b = h.gateway(cfg).await(60, TimeUnit.SECONDS);
    Map<RedisProcess, Long> before = new HashMap<>();
    cluster.masters().forEach(m -> before.put(m, calls(m)));
    Set<RedisProcess> ingestMasters = new HashSet<>();
    for (int s = 0; s < shards; s++) {
      ingestMasters.add(cluster.masterOf(RedisKeys.eventsShard(s)));
    }
    long start = System.nanoTime();
    AtomicInteger next = new AtomicInteger();
    AtomicLong ok = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    Promise<Void> sent = Promise.promise();
    AtomicInteger running = new AtomicInteger(concurrency);
    String run = Long.toString(System.nanoTime(), 36);
    for (int c = 0; c < concurrency; c++) {
      Gateway first = c % 2 == 0 ? a : b;
      vertx.runOnContext(v -> send(h, first, run, next, total, ok, refused, running, sent, a, b));
    }
    sent.future().await(10, TimeUnit.MINUTES);
    double sendS = (System.nanoTime() - start) / 1e9;
    long accepted = ok.get();
    while (a.eventStats().handled() + b.eventStats().handled() < accepted && System.nanoTime() - start < 600e9) {
      Thread.sleep(20);
    }
    double handledS = (System.nanoTime() - start) / 1e9;
    StringBuilder per = new StringBuilder();
    for (RedisProcess m : cluster.masters()) {
      per.append(String.format(" %s=%d", m.name(), calls(m) - before.get(m)));
    }
    h.close().await(60, TimeUnit.SECONDS);
    return String.format("shards=%-2d ingest masters=%d: %d accepted (%d refused) in %.2f s = %.0f accepted/s; all handled after %.2f s"
        + " = %.0f handled/s; commands per master:%s", shards, ingestMasters.size(), accepted, refused.get(), sendS,
      accepted / sendS, handledS, accepted / handledS, per);
  }

  private static void send(Harness h, Gateway g, String run, AtomicInteger next, int total, AtomicLong ok, AtomicLong refused,
                           AtomicInteger running, Promise<Void> done, Gateway a, Gateway b) {
    int i = next.getAndIncrement();
    if (i >= total) {
      if (running.decrementAndGet() == 0) {
        done.tryComplete();
      }
      return;
    }
    Buffer body = Deliveries.linktreeEvent("link.reordered", new JsonObject().put("link_id", "bench-" + run + "-" + i));
    h.post(g, "/webhooks/linktree", Deliveries.linktree("bench-" + run + "-" + i, body), body).onComplete(ar -> {
      if (ar.succeeded() && ar.result().statusCode() == 200) {
        ok.incrementAndGet();
      } else {
        refused.incrementAndGet();
      }
      send(h, i % 2 == 0 ? a : b, run, next, total, ok, refused, running, done, a, b);
    });
  }

  /** Total commands a node has served (sum of calls over INFO commandstats). */
  private static long calls(RedisProcess m) {
    long sum = 0;
    for (String line : m.string("INFO", "commandstats").split("\r?\n")) {
      int at = line.indexOf("calls=");
      if (line.startsWith("cmdstat_") && at > 0) {
        sum += Long.parseLong(line.substring(at + 6, line.indexOf(',', at)));
      }
    }
    return sum;
  }
}
