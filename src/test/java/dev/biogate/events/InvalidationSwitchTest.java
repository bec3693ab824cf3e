package dev.biogate.events;

import dev.biogate.redis.RedisKeys;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.TestSentinel;
import dev.biogate.support.Topology;
import dev.biogate.support.UnstartedHarnessTest;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The cache-invalidation subscription follows a Sentinel switch at once. Sentinel turns the old master into a replica
 * only when it next looks at it (up to 10 s after the switch), and only then drops its clients: a subscription left
 * there hears nothing of the profile writes the new master publishes meanwhile, so other instances kept serving their
 * L1 copies for up to their fresh TTL (60 s by default) instead of refreshing within a second.
 */
class InvalidationSwitchTest extends UnstartedHarnessTest {

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  void theSubscriptionIsOnTheNewMasterBeforeTheOldOneIsDemoted(Vertx vertx, VertxTestContext ctx) {
    TestSentinel group = TestSentinel.get();
    RedisProcess old = group.master();
    RedisProcess next = group.replica();
    h.start(Topology.SENTINEL)
      .compose(x -> h.gateway(new JsonObject()))
      .compose(g -> vertx.executeBlocking(() -> {
        RedisProcess.await("the gateway subscribed on the master", 10_000, () -> subscribers(old) == 1);
        group.sentinels().get(0).call("SENTINEL", "FAILOVER", TestSentinel.MASTER_NAME);
        // Until the old master is demoted (it then drops every client, and a resubscription lands on the new one).
        RedisProcess.await("the old master demoted or the subscription moved", 30_000,
          () -> subscribers(next) == 1 || !"master".equals(role(old)));
        String seen = "old master " + role(old) + ", subscribers on the new master " + subscribers(next);
        group.settle();
        return seen;
      }))
      .onComplete(ctx.succeeding(seen -> ctx.verify(() -> {
        assertEquals("old master master, subscribers on the new master 1", seen,
          "the subscription moved while the old master still took writes");
        ctx.completeNow();
      })));
  }

  private static long subscribers(RedisProcess server) {
    List<?> numsub = (List<?>) server.call("PUBSUB", "NUMSUB", RedisKeys.invalidateChannel(0));
    return Long.parseLong(numsub.get(1).toString());
  }

  private static String role(RedisProcess server) {
    return ((List<?>) server.call("ROLE")).get(0).toString();
  }
}
