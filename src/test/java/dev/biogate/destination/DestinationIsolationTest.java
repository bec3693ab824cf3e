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

  /**
   * A destination that answers, slowly: each of its requests held an instance's slot until answered, so 100 events
   * filled all 64 with its deliveries and the healthy destination waited for its answers (4 s each, 64 at a time). Each
   * destination now has at most a quarter of the slots on the wire; the healthy one gets every event before the slow
   * one has answered once.
   */
  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  void aDestinationThatAnswersSlowlyDoesNotHoldBackTheOthers(VertxTestContext ctx) {
    slowly(1, ctx);
  }

  /** Two slow destinations at once still leave slots to the others. */
  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  void twoDestinationsThatAnswerSlowlyDoNotHoldBackTheOthers(VertxTestContext ctx) {
    slowly(2, ctx);
  }

  private void slowly(int slowOnes, VertxTestContext ctx) {
    int events = 100;
    long slowMs = 4_000;
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < events; i++) {
      ids.add("slow-" + i);
    }
    List<Future<Receiver>> started = new ArrayList<>();
    for (int i = 0; i <= slowOnes; i++) {
      started.add(h.receiver(200));
    }
    Future.all(started).compose(rs -> {
      Receiver healthy = rs.resultAt(slowOnes);
      List<Receiver> slow = new ArrayList<>();
      JsonArray endpoints = new JsonArray()
        .add(healthy.destinations("healthy", "linktree.*").getJsonArray("endpoints").getJsonObject(0).put("ratePerSec", 1_000));
      for (int i = 0; i < slowOnes; i++) {
        Receiver r = rs.resultAt(i);
        r.delayMs.set(slowMs);
        slow.add(r);
        endpoints.add(r.destinations("slow" + i, "linktree.*").getJsonArray("endpoints").getJsonObject(0).put("ratePerSec", 1_000));
      }
      JsonObject cfg = new JsonObject().put("endpoints", endpoints).put("timeoutMs", 20_000);
      return h.gateway(Deliveries.config().put("destinations", cfg)).compose(g -> Deliveries.milestones(h, g, ids)
        .compose(v -> h.eventually(() -> Future.succeededFuture(healthy.delivered().size() == events), 30_000)
          .recover(err -> Future.failedFuture(new AssertionError("the healthy destination received "
            + healthy.delivered().size() + " of " + events, err))))
        .compose(v -> {
          long firstAnswer = slow.stream().mapToLong(r -> r.requests.get(0).atMs()).min().orElseThrow() + slowMs;
          assertTrue(System.currentTimeMillis() < firstAnswer, "the healthy destination got every event only "
            + (System.currentTimeMillis() - firstAnswer) + " ms after a slow one's first answer");
          slow.forEach(r -> r.delayMs.set(0));
          return h.eventually(() -> Future.succeededFuture(slow.stream().allMatch(r -> r.delivered().size() == events)), 40_000)
            .recover(err -> Future.failedFuture(new AssertionError("the slow destinations received "
              + slow.stream().map(r -> r.delivered().size()).toList() + " of " + events, err)));
        })
        .map(v -> {
          assertEquals(events, healthy.deliveries(), "each delivered once");
          slow.forEach(r -> assertEquals(events, r.deliveries(), "each delivered once"));
          return null;
        }));
    }).onComplete(ctx.succeedingThenComplete());
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
