package dev.biogate.destination;

import dev.biogate.Gateway;
import dev.biogate.support.HarnessTest;
import dev.biogate.support.Receiver;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import io.vertx.junit5.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One destination's trouble is its own: every destination's deliveries share the outbound stream, read in order into a
 * fixed number of delivery slots per instance, and deliveries waiting for a destination that is down (its breaker
 * open) or for the back-off after a rejection kept their slots. Once the slots all held such deliveries, no other
 * destination received anything: 200 events for a down (or refusing) destination and a healthy one reached the healthy
 * one 63 (91) times, and the rest waited until the other came back; of the 120 sent now, 63 reached it. Past half of
 * the slots, such a delivery is now set aside (pending, taken up again once idle) and the others are read; once the
 * troubled destination accepts again, it gets every event too.
 */
class DestinationIsolationTest extends HarnessTest {

  private static final int EVENTS = 120;

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  void aDestinationThatIsDownDoesNotHoldBackTheOthers(VertxTestContext ctx) {
    run(503, ctx);
  }

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  void aDestinationThatRejectsEveryEventDoesNotHoldBackTheOthers(VertxTestContext ctx) {
    run(422, ctx);
  }

  private void run(int troubledAnswers, VertxTestContext ctx) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < EVENTS; i++) {
      ids.add("iso-" + i);
    }
    Future.all(h.receiver(troubledAnswers), h.receiver(200)).compose(rs -> {
      Receiver troubled = rs.resultAt(0);
      Receiver healthy = rs.resultAt(1);
      JsonArray endpoints = new JsonArray()
        .add(troubled.destinations("troubled", "linktree.*").getJsonArray("endpoints").getJsonObject(0))
        .add(healthy.destinations("healthy", "linktree.*").getJsonArray("endpoints").getJsonObject(0));
      // Long waits for the troubled one: its breaker stays open, its rejected deliveries back off for seconds.
      JsonObject cfg = new JsonObject().put("endpoints", endpoints).put("breakerMaxFailures", 2)
        .put("breakerResetMs", 2_000).put("maxAttempts", 8).put("retryBaseMs", 4_000).put("retryMaxMs", 8_000);
      return h.gateway(Deliveries.config().put("destinations", cfg)).compose(g -> Deliveries.milestones(h, g, ids)
        .compose(v -> h.eventually(() -> Future.succeededFuture(healthy.delivered().size() == EVENTS), 20_000)
          .recover(err -> Future.failedFuture(new AssertionError("the healthy destination received "
            + healthy.delivered().size() + " of " + EVENTS, err))))
        .compose(v -> deadLetters(g))
        .compose(dead -> {
          assertEquals(0L, dead.getLong("count"), "nothing dead-lettered: " + dead.encode());
          assertTrue(troubled.delivered().isEmpty());
          troubled.status.set(200);
          return h.eventually(() -> Future.succeededFuture(troubled.delivered().size() == EVENTS), 40_000)
            .recover(err -> Future.failedFuture(new AssertionError("once it accepts, the troubled destination received "
              + troubled.delivered().size() + " of " + EVENTS, err)));
        })
        .map(v -> {
          assertEquals(EVENTS, healthy.deliveries(), "each delivered once");
          return null;
        }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  private Future<JsonObject> deadLetters(Gateway g) {
    return h.send(HttpMethod.GET, g, "/admin/destinations/dead-letters", Deliveries.ADMIN_TOKEN).map(r -> r.bodyAsJsonObject());
  }
}
