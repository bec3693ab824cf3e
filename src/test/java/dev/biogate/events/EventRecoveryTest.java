package dev.biogate.events;

import dev.biogate.support.Sharded;
import dev.biogate.Gateway;
import dev.biogate.redis.EmbeddedRedis;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.Harness;
import dev.biogate.support.Receiver;
import dev.biogate.support.TestRedis;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Processing survives a dead instance and a Redis restart; ingestion refuses with 503 rather than losing anything. */
@ExtendWith(VertxExtension.class)
class EventRecoveryTest {

  private static final int PENDING = 20;

  private Harness h;
  private EmbeddedRedis dedicated;

  @AfterEach
  void stop(Vertx vertx, VertxTestContext ctx) {
    h.close().compose(v -> vertx.executeBlocking(() -> {
      if (dedicated != null) {
        dedicated.stop();
      }
      return null;
    })).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void anotherInstanceFinishesWhatAStoppedInstanceLeftPending(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject alerts = new JsonObject();
    h.start().compose(x -> h.receiver(500)).compose(alertSink -> {
      String url = alertSink.url("/alerts");
      // A: every handling fails and the retry is a minute away, so A holds all entries pending when it goes away.
      JsonObject slowA = Deliveries.config().put("webhooks", Deliveries.webhooks().put("retryBaseMs", 60_000).put("maxAttempts", 5)
        .put("alerts", alerts.copy().put("url", url)));
      JsonObject b = Deliveries.config().put("webhooks", Deliveries.webhooks().put("alerts", alerts.copy().put("url", url)));
      return h.gateway(slowA).compose(a -> {
        List<Future<?>> sends = new ArrayList<>();
        for (int i = 0; i < PENDING; i++) {
          Buffer body = Deliveries.milestone("l" + i, 100);
          sends.add(h.post(a, "/webhooks/linktree", Deliveries.linktree("p-" + i, body), body));
        }
        return Future.all(sends)
          .compose(v -> h.eventually(() -> Future.succeededFuture(a.eventStats().failedAttempts() >= PENDING), 5_000))
          .compose(v -> pending())
          .compose(pending -> {
            assertEquals(PENDING, pending, "A holds every entry, unacknowledged");
            return h.close(a);
          });
      }).compose(v -> {
        alertSink.answer(200);
        return h.gateway(b);
      }).compose(gb -> h.eventually(() -> Future.succeededFuture(gb.eventStats().handled() >= PENDING), 10_000)
        // "handled" counts when the handler succeeds; the XACK lands just after, so wait for it rather than race it.
        .compose(v -> h.eventually(() -> pending().map(p -> p == 0L), 5_000).otherwiseEmpty())
        .compose(v -> pending())
        .map(pending -> {
          assertEquals(PENDING, gb.eventStats().claimed(), "B took A's entries over with XAUTOCLAIM");
          assertEquals(PENDING, gb.eventStats().handled());
          assertEquals(PENDING, alertSink.delivered().size(), "every event forwarded once it could be");
          assertEquals(0L, pending, "nothing left pending");
          return null;
        }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aSlowHandlerKeepsItsEntryWhileTheOtherInstanceSweepsForAbandonedOnes(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    h.start().compose(x -> h.receiver(200)).compose(alertSink -> {
      // The sink answers after 3 x claimIdleMs: only the holder's heartbeat keeps the entry from being claimed
      // meanwhile. This delay is the slow handler under test, not a wait for a condition.
      alertSink.delay(1_500);
      JsonObject cfg = Deliveries.config().put("webhooks", Deliveries.webhooks()
        .put("alerts", new JsonObject().put("url", alertSink.url("/alerts"))));
      return h.gateway(cfg).compose(a -> h.gateway(cfg).compose(b -> {
        List<Future<?>> sends = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          Buffer body = Deliveries.milestone("l" + i, 100);
          sends.add(h.post(i % 2 == 0 ? a : b, "/webhooks/linktree", Deliveries.linktree("slow-" + i, body), body));
        }
        return Future.all(sends)
          .compose(v -> h.eventually(() -> Future.succeededFuture(
            a.eventStats().handled() + b.eventStats().handled() >= 4), 10_000))
          .compose(v -> pending())
          .map(pending -> {
            assertEquals(0, a.eventStats().claimed() + b.eventStats().claimed(), "no live holder lost an entry");
            List<String> forwarded = alertSink.received().stream().map(r -> r.header(Receiver.DELIVERY_HEADER)).toList();
            assertEquals(4, forwarded.size(), "each event forwarded once: " + forwarded);
            assertEquals(4, a.eventStats().handled() + b.eventStats().handled());
            assertEquals(0L, pending);
            return null;
          });
      }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void answers503WithRetryAfterWhileRedisIsDownAndResumesAfterItRestarts(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    vertx.executeBlocking(() -> dedicated = TestRedis.dedicated())
      .compose(r -> h.start(r.url(), new JsonObject()))
      .compose(x -> h.gateway(Deliveries.config()))
      .compose(g -> click(g, "before").compose(r -> {
        assertEquals(200, r.statusCode());
        return h.eventually(() -> Future.succeededFuture(g.eventStats().handled() == 1), 5_000);
      }).compose(v -> vertx.executeBlocking(() -> {
        dedicated.stop();
        return null;
      })).compose(v -> click(g, "during")).compose(down -> {
        assertEquals(503, down.statusCode());
        assertEquals("application/json", down.getHeader("Content-Type"));
        assertEquals("unavailable", down.bodyAsJsonObject().getString("error"));
        assertTrue(Long.parseLong(down.getHeader("Retry-After")) >= 1);
        return vertx.executeBlocking(() -> {
          dedicated.restart();
          return null;
        });
      }).compose(v -> h.eventually(() -> click(g, "during").map(r -> r.statusCode() == 200), 10_000))
        .compose(v -> h.eventually(() -> Future.succeededFuture(g.eventStats().handled() == 2), 10_000)))
      .onComplete(ctx.succeedingThenComplete());
  }

  private Future<HttpResponse<Buffer>> click(Gateway g, String id) {
    Buffer body = Deliveries.click(id, "lnk_demo_01");
    return h.post(g, "/webhooks/linkme", Deliveries.linkme(body), body);
  }

  private Future<Long> pending() {
    return Sharded.pending(h::redis, RedisKeys::eventsShard, RedisKeys.EVENTS_GROUP);
  }
}
