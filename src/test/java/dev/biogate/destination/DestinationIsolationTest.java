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

  /**
   * A destination that is down: the other one gets every event meanwhile, and once it is back it gets its whole backlog
   * without any of it set aside. Its deliveries waited for its breaker held slots, and past 16 of them they were set
   * aside: a re-drill saw 139 of 301 come back only with the idle claim, 30-61 s after the destination was back. They
   * are parked on it now, and one is offered again each time its breaker may let a probe through.
   */
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
   * A destination that answers, slowly (here: only once the test lets it): each of its requests held one of the
   * instance's 64 slots until answered, so a backlog for it filled them all and the other destinations waited for its
   * answers (a drill: 60 s behind 450 events for one answering in 9 s). A destination now works on at most half of the
   * slots the others leave; its further deliveries are parked outside the slots and taken up as its answers come in.
   * The healthy destination gets every event while the slow one has answered none, and none is set aside.
   */
  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  void aDestinationThatAnswersSlowlyDoesNotHoldBackTheOthers(VertxTestContext ctx) {
    slowly(1, 80, ctx);
  }

  /**
   * Two slow destinations at once: the second takes half of what the first leaves, and some slots stay free. Their
   * deliveries past the parked ceiling may be set aside (they come back once idle), so that is not asserted here.
   */
  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  void twoDestinationsThatAnswerSlowlyDoNotHoldBackTheOthers(VertxTestContext ctx) {
    slowly(2, 80, ctx);
  }

  /**
   * A burst to a destination that answers in tenths of a second: its deliveries past its share are parked and taken up
   * as it answers, never set aside. A cap tried before set aside everything past it, and a healthy destination whose
   * attempts took 0.7 s under a burst had deliveries set aside for 60-120 s.
   */
  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  void aBurstToADestinationThatAnswersInTenthsOfASecondIsNotSetAside(VertxTestContext ctx) {
    int events = 300;
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < events; i++) {
      ids.add("burst-" + i);
    }
    h.receiver(200).compose(r -> {
      r.delayMs.set(700);
      JsonObject cfg = r.destinations("busy", "linktree.*").put("timeoutMs", 20_000);
      cfg.getJsonArray("endpoints").getJsonObject(0).put("ratePerSec", 1_000);
      return h.gateway(Deliveries.config().put("destinations", cfg)).compose(g -> Deliveries.milestones(h, g, ids)
        .compose(v -> h.eventually(() -> Future.succeededFuture(r.delivered().size() == events), 60_000)
          .recover(err -> Future.failedFuture(new AssertionError("received " + r.delivered().size() + " of " + events, err))))
        .map(v -> {
          assertEquals(events, r.deliveries(), "each delivered once");
          assertEquals(0, g.outboundStats().setAside(), "none set aside");
          return null;
        }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  private void slowly(int slowOnes, int events, VertxTestContext ctx) {
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
        r.hold();
        slow.add(r);
        endpoints.add(r.destinations("slow" + i, "linktree.*").getJsonArray("endpoints").getJsonObject(0).put("ratePerSec", 1_000));
      }
      JsonObject cfg = new JsonObject().put("endpoints", endpoints).put("timeoutMs", 60_000);
      return h.gateway(Deliveries.config().put("destinations", cfg)).compose(g -> Deliveries.milestones(h, g, ids)
        .compose(v -> h.eventually(() -> Future.succeededFuture(healthy.delivered().size() == events), 30_000)
          .recover(err -> Future.failedFuture(new AssertionError("the healthy destination received "
            + healthy.delivered().size() + " of " + events + " while the slow ones held "
            + slow.stream().map(Receiver::holdingNow).toList() + " requests unanswered", err))))
        .compose(v -> {
          List<Integer> open = slow.stream().map(Receiver::holdingNow).toList();
          slow.forEach(r -> assertEquals(r.requests.size(), r.holdingNow(), "the slow ones answered nothing yet"));
          assertTrue(open.stream().allMatch(n -> n <= 32), "at most half of the 64 slots each: " + open);
          assertTrue(open.stream().mapToInt(Integer::intValue).sum() < 64, "slots left to the others: " + open);
          slow.forEach(Receiver::release);
          return h.eventually(() -> Future.succeededFuture(slow.stream().allMatch(r -> r.delivered().size() == events)), 60_000)
            .recover(err -> Future.failedFuture(new AssertionError("the slow destinations received "
              + slow.stream().map(r -> r.delivered().size()).toList() + " of " + events, err)));
        })
        .map(v -> {
          assertEquals(events, healthy.deliveries(), "each delivered once");
          slow.forEach(r -> assertEquals(events, r.deliveries(), "each delivered once"));
          if (slowOnes == 1) {
            // 48 of the slow one's deliveries and 64 of the healthy one's parked at most: under the 1,024 kept parked.
            assertEquals(0, g.outboundStats().setAside(), "parked, not set aside");
          }
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
        .put("breakerResetMs", 2_000).put("maxAttempts", 8).put("retryBaseMs", 2_000).put("retryMaxMs", 4_000);
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
          if (troubledAnswers == 503) {
            assertEquals(0, g.outboundStats().setAside(), "the down destination's deliveries parked, not set aside");
          }
          return null;
        }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  private Future<JsonObject> deadLetters(Gateway g) {
    return h.send(HttpMethod.GET, g, "/admin/destinations/dead-letters", Deliveries.ADMIN_TOKEN).map(r -> r.bodyAsJsonObject());
  }
}
