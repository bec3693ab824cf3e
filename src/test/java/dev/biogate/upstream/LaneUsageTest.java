package dev.biogate.upstream;

import dev.biogate.support.Eventually;
import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The console's "budget use per lane" read back from a real Redis, whichever protocol the client speaks. */
@ExtendWith(VertxExtension.class)
class LaneUsageTest {

  private static final long NOW = 1_700_000_000_000L;

  @ParameterizedTest
  @EnumSource(value = ProtocolVersion.class, names = {"RESP2", "RESP3"})
  void historyCountsTheGrantsOfEachLaneInTheirMinute(ProtocolVersion protocol, Vertx vertx, VertxTestContext ctx) {
    Redis redis = Redis.createClient(vertx, new RedisOptions().setConnectionString(TestRedis.url())
      .setPreferredProtocolVersion(protocol));
    LaneUsage usage = new LaneUsage(new LocalBudget(1000, 60_000, new LaneShares(0, 0)), redis,
      "lane-usage-" + UUID.randomUUID(), () -> NOW);
    Future.all(usage.acquire(Lane.FOREGROUND), usage.acquire(Lane.FOREGROUND), usage.acquire(Lane.FOREGROUND),
        usage.acquire(Lane.BACKGROUND))
      .compose(v -> Eventually.until(vertx, () -> usage.history(2).map(h -> counts(h.getJsonObject(1)) == 4), 10_000,
        "four grants counted"))
      .compose(v -> usage.history(2))
      .onComplete(ctx.succeeding(h -> ctx.verify(() -> {
        assertEquals(2, h.size());
        JsonObject earlier = h.getJsonObject(0);
        JsonObject current = h.getJsonObject(1);
        assertEquals(0, counts(earlier));
        assertEquals(3, current.getLong("FOREGROUND"));
        assertEquals(0, current.getLong("REFRESH"));
        assertEquals(1, current.getLong("BACKGROUND"));
        assertEquals(0, current.getLong("FIRST_SIGHT"));
        redis.close();
        ctx.completeNow();
      })));
  }

  /**
   * A miss that learns without a round trip that its lane would be denied does not ask for a permit; it was not
   * counted as a refusal either, and the metric showed 1 denial while 400 reads had been refused.
   */
  @Test
  void aRefusalKnownWithoutAskingCountsAsADenial() {
    LocalBudget budget = new LocalBudget(10, 60_000, new LaneShares(0, 0));
    LaneUsage usage = new LaneUsage(budget, null, "lane-usage-" + UUID.randomUUID(), () -> NOW);
    assertEquals(0, usage.deniedForMs(Lane.FOREGROUND));
    assertEquals(0, usage.permits(Lane.FOREGROUND, false), "not denied: nothing counted");
    usage.backOff(30_000);
    assertTrue(usage.deniedForMs(Lane.FOREGROUND) > 0);
    assertTrue(usage.deniedForMs(Lane.REFRESH) > 0);
    assertEquals(1, usage.permits(Lane.FOREGROUND, false));
    assertEquals(1, usage.permits(Lane.REFRESH, false));
    assertEquals(0, usage.permits(Lane.FOREGROUND, true));
  }

  private static long counts(JsonObject minute) {
    long sum = 0;
    for (Lane lane : Lane.values()) {
      sum += minute.getLong(lane.name());
    }
    return sum;
  }
}
