package dev.biogate.profile;

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

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Under Sentinel, while the master is down and not yet replaced, an instance started meanwhile holds no copy, and a
 * profile whose copy was in Redis answered 503 (a drill: 3.4 s of them; reads never went to a replica). The shared
 * copy is now read from a replica when the master does not answer. Here the replica is never promoted (priority 0), so
 * the master stays down for as long as the test needs, and the upstream is down too: the copy can only come from the
 * replica.
 */
class ReplicaReadTest extends UnstartedHarnessTest {

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  void anInstanceStartedWhileTheMasterIsDownServesTheCopyAReplicaHolds(Vertx vertx, VertxTestContext ctx) {
    TestSentinel group = TestSentinel.get();
    RedisProcess replica = group.replica();
    h.start(Topology.SENTINEL)
      .compose(x -> h.gateway(new JsonObject()))
      .compose(a -> h.get(a, "/v1/profiles/demo"))
      .compose(first -> {
        assertEquals(200, first.statusCode(), first.bodyAsString());
        return h.eventually(() -> vertx.executeBlocking(() ->
          Long.valueOf(1).equals(replica.call("EXISTS", RedisKeys.profile("demo")))), 10_000);
      })
      .compose(v -> h.fault(new JsonObject().put("mode", "down")))
      .compose(v -> vertx.executeBlocking(() -> {
        replica.call("CONFIG", "SET", "replica-priority", "0");
        group.master().kill();
        return null;
      }))
      .compose(v -> h.gateway(new JsonObject()))
      .compose(b -> h.get(b, "/v1/profiles/demo"))
      .eventually(() -> vertx.executeBlocking(() -> {
        replica.call("CONFIG", "SET", "replica-priority", "100");
        group.settle();
        return null;
      }))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals(200, r.statusCode(), "the copy the replica holds: " + r.bodyAsString());
        assertEquals("demo", r.bodyAsJsonObject().getString("username"));
        ctx.completeNow();
      })));
  }
}
