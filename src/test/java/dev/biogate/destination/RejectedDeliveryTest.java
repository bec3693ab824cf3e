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

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A destination that is up but refuses some events for good (here {@code 422}, e.g. a schema it does not accept). A
 * fault drill found such a destination stalled for good: the rejections opened its breaker, each half-open probe sent
 * the same rejected delivery again, and a failed probe cost the delivery no attempt, so it was never dead-lettered,
 * the breaker never closed and the deliveries behind it waited until the destination was switched to accept
 * everything. A rejection (a 4xx other than 408 and 429) is now a failure of that event, not of the destination: it
 * spends an attempt and does not count for the breaker.
 */
class RejectedDeliveryTest extends HarnessTest {

  @Test
  void aDeliveryTheDestinationRejectsIsDeadLetteredWhileTheOthersKeepFlowing(VertxTestContext ctx) {
    List<String> bad = List.of("bad-0", "bad-1", "bad-2");
    List<String> good = List.of("good-0", "good-1", "good-2", "good-3", "good-4", "good-5");
    h.receiver(200).compose(crm -> {
      crm.rejected.addAll(bad);
      // Three rejections would open the breaker if they counted for it; a minute before it let a probe through.
      JsonObject cfg = config(crm).put("breakerMaxFailures", 3).put("breakerResetMs", 60_000);
      return h.gateway(Deliveries.config().put("destinations", cfg)).compose(g -> Deliveries.milestones(h, g, bad)
        .compose(v -> h.eventually(() -> Future.succeededFuture(rejections(crm) >= bad.size()), 10_000))
        .compose(v -> Deliveries.milestones(h, g, good))
        .compose(v -> h.eventually(() -> deadLetters(g).map(d -> d.getLong("count") == bad.size()
          && crm.delivered().containsAll(good)), 15_000))
        .compose(v -> Future.all(deadLetters(g), breaker(g)))
        .map(all -> {
          JsonArray dead = all.<JsonObject>resultAt(0).getJsonArray("dead_letters");
          assertEquals(Set.copyOf(bad), dead.stream().map(o -> ((JsonObject) o).getString("delivery_id")).collect(Collectors.toSet()));
          for (Object o : dead) {
            JsonObject d = (JsonObject) o;
            assertEquals(3, d.getInteger("attempts"), d.encode());
            assertEquals("destination answered 422", d.getString("error"), d.encode());
          }
          Map<String, Long> perId = crm.requests.stream().collect(Collectors.groupingBy(Receiver.Request::deliveryId,
            Collectors.counting()));
          bad.forEach(id -> assertEquals(3L, perId.get(id), id + " sent once per attempt: " + perId));
          good.forEach(id -> assertEquals(1L, perId.get(id), id + " delivered once: " + perId));
          assertEquals("CLOSED", all.resultAt(1), "rejections do not open the breaker");
          return null;
        }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  /**
   * The destination is down (503: its breaker opens, the delivery waits without spending attempts) and comes back
   * rejecting the delivery that is its probe. The answer proves it is up: the breaker closes and the rejection costs
   * the delivery an attempt, so it is dead-lettered instead of being the probe forever.
   */
  @Test
  void aProbeTheDestinationRejectsClosesTheBreakerAndSpendsAnAttempt(VertxTestContext ctx) {
    h.receiver(503).compose(crm -> {
      crm.rejected.add("probe-bad");
      JsonObject cfg = config(crm).put("breakerMaxFailures", 2).put("breakerResetMs", 300);
      return h.gateway(Deliveries.config().put("destinations", cfg)).compose(g -> Deliveries.milestones(h, g, List.of("probe-bad"))
        .compose(v -> h.eventually(() -> breaker(g).map("OPEN"::equals), 10_000))
        .compose(v -> {
          crm.status.set(200);
          return h.eventually(() -> deadLetters(g).map(d -> d.getLong("count") == 1), 15_000);
        })
        .compose(v -> Deliveries.milestones(h, g, List.of("after-1")))
        .compose(v -> h.eventually(() -> Future.succeededFuture(crm.delivered().contains("after-1")), 10_000))
        .compose(v -> Future.all(deadLetters(g), breaker(g)))
        .map(all -> {
          JsonObject d = all.<JsonObject>resultAt(0).getJsonArray("dead_letters").getJsonObject(0);
          assertEquals("probe-bad", d.getString("delivery_id"));
          assertEquals("destination answered 422", d.getString("error"), d.encode());
          long rejected = crm.requests.stream().filter(r -> r.answered() == 422).count();
          assertTrue(rejected >= 1 && rejected <= 3, "rejected at most once per attempt: " + rejected);
          assertEquals("CLOSED", all.resultAt(1));
          return null;
        }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  /** {@code 429 Too Many Requests} says the destination cannot take more now: like a 5xx, it opens the breaker. */
  @Test
  void aTooManyRequestsAnswerOpensTheBreakerAndCostsNoAttempt(VertxTestContext ctx) {
    h.receiver(429).compose(crm -> {
      JsonObject cfg = config(crm).put("breakerMaxFailures", 2).put("breakerResetMs", 200);
      return h.gateway(Deliveries.config().put("destinations", cfg)).compose(g -> Deliveries.milestones(h, g, List.of("busy-1"))
        .compose(v -> h.eventually(() -> breaker(g).map("OPEN"::equals), 10_000))
        // Probes, 200 ms apart: more answers than attempts allowed.
        .compose(v -> h.eventually(() -> Future.succeededFuture(crm.requests.size() > 5), 10_000))
        .compose(v -> deadLetters(g))
        .map(d -> {
          assertEquals(0L, d.getLong("count"), "kept while the destination pushes back: " + d.encode());
          return null;
        }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  private static JsonObject config(Receiver crm) {
    return crm.destinations("crm", "linktree.*").put("maxAttempts", 3).put("retryBaseMs", 20).put("retryMaxMs", 100);
  }

  private static long rejections(Receiver crm) {
    return crm.requests.stream().filter(r -> r.answered() == 422).count();
  }

  private Future<JsonObject> deadLetters(Gateway g) {
    return h.send(HttpMethod.GET, g, "/admin/destinations/dead-letters", Deliveries.ADMIN_TOKEN).map(r -> r.bodyAsJsonObject());
  }

  private Future<String> breaker(Gateway g) {
    return h.send(HttpMethod.GET, g, "/admin/destinations", Deliveries.ADMIN_TOKEN)
      .map(r -> r.bodyAsJsonObject().getJsonObject("destinations").getJsonObject("crm").getString("breaker"));
  }
}
