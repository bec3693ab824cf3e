package dev.biogate.upstream;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.TestSentinel;
import dev.biogate.support.Topology;
import dev.biogate.support.UnstartedHarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Upstream permits granted straight through a {@code SENTINEL FAILOVER} all count on the new master. Sentinel promotes
 * the replica first and announces the switch a moment later; until the gateway moves its connections, permits are
 * granted on the old master, whose writes its resync with the new master then discards. Unlike a dead master, a
 * switch breaks no connection, so nothing told the budget to write its remembered grants back: this test found grants
 * of that moment missing from the new master's log, which would let the instances spend them a second time. It also
 * found the instance denying itself every permit for a whole window after the switch: the new master's copy of its
 * own record was older than the silence, so the limiter reserved the instance's share against the instance itself.
 */
class BudgetSentinelSwitchTest extends UnstartedHarnessTest {

  private static final int TAKERS = 2;
  /** Pause between a taker's permits: about 100 grants a second, well under the grants an instance remembers. */
  private static final long PACE_MS = 20;

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  void everyPermitGrantedAroundASwitchIsInTheNewMastersLog(Vertx vertx, VertxTestContext ctx) {
    TestSentinel group = TestSentinel.get();
    AtomicBoolean taking = new AtomicBoolean(true);
    AtomicInteger granted = new AtomicInteger();
    AtomicInteger afterSwitch = new AtomicInteger();
    h.start(Topology.SENTINEL)
      .compose(x -> h.gateway(config()))
      .compose(g -> h.eventually(() -> Future.succeededFuture(g.budget().isRegistered()), 15_000).map(g))
      .compose(g -> {
        for (int i = 0; i < TAKERS; i++) {
          take(vertx, g, taking, granted);
        }
        // Permits before, during and after the switch; failover() returns once the old master is a replica again.
        return vertx.timer(500)
          .compose(t -> vertx.executeBlocking(group::failover))
          .compose(master -> {
            afterSwitch.set(granted.get());
            return vertx.timer(1_000);
          })
          .map(t -> {
            taking.set(false);
            afterSwitch.set(granted.get() - afterSwitch.get());
            return g;
          })
          // The gateway follows the switch in steps over a few seconds; then the log is read where the group settled.
          .compose(x -> h.eventually(() -> vertx.executeBlocking(() -> missing(group.master(), g).isEmpty()), 10_000)
            .otherwiseEmpty())
          .compose(x -> vertx.executeBlocking(() -> missing(group.master(), g)));
      })
      .onComplete(ctx.succeeding(missing -> ctx.verify(() -> {
        assertTrue(granted.get() > 100, "permits were granted around the switch: " + granted.get());
        assertTrue(afterSwitch.get() > 20, "permits are granted again once the group has settled: " + afterSwitch.get());
        assertEquals(Set.of(), missing, missing.size() + " of the " + granted.get()
          + " permits granted are not in the new master's budget log");
        ctx.completeNow();
      })));
  }

  /** This instance's remembered grants (all of the test: the window is long) that the master's log does not hold. */
  private static Set<String> missing(RedisProcess master, Gateway g) {
    @SuppressWarnings("unchecked")
    List<Object> log = (List<Object>) master.call("ZRANGE", RedisKeys.budgetLog("linktree"), "0", "-1");
    Set<String> held = log.stream().map(Object::toString).collect(Collectors.toCollection(HashSet::new));
    return g.budget().ownGrants().stream().map(grant -> grant.member).filter(m -> !held.contains(m))
      .collect(Collectors.toCollection(HashSet::new));
  }

  /** One taker: takes a permit, settles it and takes the next, until told to stop. */
  private static void take(Vertx vertx, Gateway g, AtomicBoolean taking, AtomicInteger granted) {
    if (!taking.get()) {
      return;
    }
    g.budget().acquire(Lane.FOREGROUND).onComplete(ar -> {
      if (ar.succeeded()) {
        granted.incrementAndGet();
        ar.result().settle();
      }
      vertx.setTimer(PACE_MS, t -> take(vertx, g, taking, granted));
    });
  }

  private static JsonObject config() {
    // A budget far above what the takers reach in a minute-long window: every grant stays in the log.
    return new JsonObject().put("linktree", new JsonObject().put("rateLimitPerMin", 100_000).put("ratePeriodMs", 60_000)
      .put("heartbeatMs", 100).put("foregroundReserve", 0.0).put("refreshReserve", 0.0));
  }
}
