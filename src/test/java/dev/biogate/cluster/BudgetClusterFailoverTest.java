package dev.biogate.cluster;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.Harness;
import dev.biogate.support.TestCluster;
import dev.biogate.support.Topology;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared upstream budget while the Cluster master holding it dies under load: two gateways keep asking for
 * never-seen profiles (each one an upstream call), the master of the budget's slot is killed and its replica takes
 * over. The referee is the sandbox upstream, limited at the budget itself over the same window: any call over the
 * budget in any rolling window is a 429 it counts. The most calls it saw in any run of whole seconds as long as the
 * window is logged and checked too.
 */
@Tag("drill")
@ExtendWith(VertxExtension.class)
class BudgetClusterFailoverTest {

  /**
   * Nodes this class killed come back before the next class starts: healing (a restarted master rejoining as a replica
   * and syncing) took longer than a test's 30-s limit once, in whichever test asked for the cluster next.
   */
  @org.junit.jupiter.api.AfterAll
  static void healTheSharedCluster() {
    TestCluster.get();
  }

  private static final Logger LOG = LoggerFactory.getLogger(BudgetClusterFailoverTest.class);
  private static final int LIMIT = 20;
  private static final long PERIOD_MS = 3_000;
  private static final int READERS = 8;

  private Harness h;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicInteger served = new AtomicInteger();

  @AfterEach
  void stop(VertxTestContext ctx) {
    running.set(false);
    h.close().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  void theBudgetMasterDyingUnderLoadNeverLetsTheUpstreamSeeMoreThanTheBudget(Vertx vertx, VertxTestContext ctx) {
    TestCluster cluster = TestCluster.get();
    h = new Harness(vertx);
    h.start(Topology.CLUSTER, new JsonObject().put("rateLimitPerMin", LIMIT).put("rateWindowMs", PERIOD_MS))
      .compose(x -> Future.all(h.gateway(config()), h.gateway(config())))
      .compose(all -> {
        List<Gateway> gs = List.of(all.resultAt(0), all.resultAt(1));
        return h.eventually(() -> Future.succeededFuture(gs.stream().allMatch(g -> g.budget().isRegistered())), 15_000)
          .compose(v -> {
            for (int i = 0; i < READERS; i++) {
              load(gs.get(i % gs.size()), "r" + i + "-", 0);
            }
            // Under load for more than a window, then the budget's master dies.
            return vertx.timer(PERIOD_MS + 500);
          })
          .compose(t -> vertx.executeBlocking(() -> {
            long killedAt = System.nanoTime();
            cluster.killMasterAndAwaitFailover(RedisKeys.budgetLog("linktree"));
            LOG.info("budget failover: replica serves the budget {} ms after the kill",
              (System.nanoTime() - killedAt) / 1_000_000);
            return null;
          }))
          .compose(v -> h.eventually(() -> Future.succeededFuture(gs.stream().noneMatch(g -> g.budget().isDegraded())), 20_000))
          // Two more windows after the promotion: grants the promoted replica may not have seen must still count.
          .compose(v -> vertx.timer(2 * PERIOD_MS))
          .map(t -> {
            running.set(false);
            return null;
          });
      })
      .compose(v -> h.sandboxStats())
      .onComplete(ctx.succeeding(stats -> ctx.verify(() -> {
        long worst = worstWindow(stats.getJsonObject("per_second"), (int) (PERIOD_MS / 1000));
        LOG.info("budget failover: {} upstream calls, {} reads answered 404, worst {} s run {} (budget {}), upstream 429s {}",
          stats.getLong("requests"), served.get(), PERIOD_MS / 1000, worst, LIMIT, stats.getInteger("rate_limited"));
        assertEquals(0, stats.getInteger("rate_limited"), "the upstream never saw more than the budget in a window: " + stats);
        assertTrue(worst <= LIMIT, "most calls in a run of whole seconds as long as the window: " + worst);
        assertTrue(served.get() > LIMIT, "the load went on across the failover: " + served.get());
        ctx.completeNow();
      })));
  }

  private JsonObject config() {
    return new JsonObject()
      .put("linktree", new JsonObject().put("rateLimitPerMin", LIMIT).put("ratePeriodMs", PERIOD_MS).put("maxRetries", 0)
        .put("heartbeatMs", 100).put("profileTimeoutMs", 500).put("foregroundReserve", 0.0).put("refreshReserve", 0.0)
        .put("firstSight", new JsonObject().put("share", 1.0).put("quotaBurst", 0)))
      .put("http", new JsonObject().put("inbound", new JsonObject().put("ratePerSec", 0)))
      .put("cache", new JsonObject().put("lockWaitMs", 200).put("negativeTtlMs", 1));
  }

  /** One reader asking for distinct never-seen names back to back until told to stop. */
  private void load(Gateway g, String prefix, int n) {
    if (!running.get()) {
      return;
    }
    h.get(g, "/v1/profiles/" + prefix + n).onComplete(ar -> {
      if (ar.succeeded() && ar.result().statusCode() == 404) {
        served.incrementAndGet();
      }
      Future<?> next = ar.succeeded() && ar.result().statusCode() == 404 ? Future.succeededFuture() : h.vertx.timer(20);
      next.onComplete(x -> load(g, prefix, n + 1));
    });
  }

  /** The most calls in any {@code seconds} consecutive whole seconds of the sandbox's per-second counts. */
  private static long worstWindow(JsonObject perSecond, int seconds) {
    TreeMap<Long, Long> counts = new TreeMap<>();
    perSecond.forEach(e -> counts.put(Long.parseLong(e.getKey()), ((Number) e.getValue()).longValue()));
    long worst = 0;
    for (long start : counts.keySet()) {
      worst = Math.max(worst, counts.subMap(start, true, start + seconds, false).values().stream().mapToLong(Long::longValue).sum());
    }
    return worst;
  }
}
