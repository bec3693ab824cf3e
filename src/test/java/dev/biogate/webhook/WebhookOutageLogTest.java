package dev.biogate.webhook;

import dev.biogate.Gateway;
import dev.biogate.support.HarnessTest;
import dev.biogate.support.LogCapture;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Redis coming and going in quick succession (right after a Sentinel failover some calls still time out for a few
 * seconds) is reported once, not once per flap: a drill logged 77 alternating "unavailable" / "reachable again" lines
 * in two seconds. Every delivery that could not be queued is still answered 503.
 */
class WebhookOutageLogTest extends HarnessTest {

  private static final Buffer BODY = Deliveries.milestone("l1", 1000);

  @Test
  void flappingRedisIsReportedOnceAndEveryFailedDeliveryAnswered503(VertxTestContext ctx) {
    LogCapture capture = LogCapture.of(WebhookIngest.class, e -> e.getLevel() + " " + e.getFormattedMessage());
    // Calls give up after 200 ms; each outage is Redis refusing writes for 500 ms.
    JsonObject cfg = Deliveries.config().put("redis", new JsonObject().put("commandTimeoutMs", 200));
    List<Integer> statuses = new ArrayList<>();
    h.gateway(cfg).compose(g -> {
      Future<Void> chain = post(g, "d-warm", statuses);
      for (int i = 0; i < 3; i++) {
        int k = i;
        chain = chain
          .compose(v -> g.redis().send(Request.cmd(Command.CLIENT).arg("PAUSE").arg(500).arg("WRITE")))
          .compose(v -> post(g, "d-down-" + k, statuses))
          .compose(v -> h.vertx.timer(400))
          .compose(v -> post(g, "d-up-" + k, statuses));
      }
      return chain;
    }).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      capture.close();
      List<String> lines = capture.lines();
      assertEquals(List.of(200, 503, 200, 503, 200, 503, 200), statuses, "each delivery sent while writes were refused got 503");
      assertEquals(1, lines.stream().filter(l -> l.startsWith("WARN redis unavailable for webhook ingestion")).count(), lines.toString());
      assertEquals(1, lines.stream().filter(l -> l.startsWith("INFO redis reachable again")).count(), lines.toString());
      ctx.completeNow();
    })));
  }

  /** An error reply is named by Redis's own error code: the line said only "ErrorType", whatever Redis answered. */
  @Test
  void anErrorReplyIsNamedByItsCode(VertxTestContext ctx) {
    LogCapture capture = LogCapture.of(WebhookIngest.class, e -> e.getLevel() + " " + e.getFormattedMessage());
    List<Integer> statuses = new ArrayList<>();
    h.gateway(Deliveries.config()).compose(g -> g.redis().send(Request.cmd(Command.CONFIG).arg("SET").arg("maxmemory").arg("1"))
      .compose(v -> post(g, "d-oom", statuses))
      .eventually(() -> g.redis().send(Request.cmd(Command.CONFIG).arg("SET").arg("maxmemory").arg("0"))))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        capture.close();
        assertEquals(List.of(503), statuses, "refused writes are a 503");
        List<String> lines = capture.lines();
        assertEquals(1, lines.stream().filter(l -> l.equals("WARN redis unavailable for webhook ingestion (OOM); answering 503 so senders retry"))
          .count(), lines.toString());
        ctx.completeNow();
      })));
  }

  private Future<Void> post(Gateway g, String id, List<Integer> statuses) {
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, BODY), BODY).map(r -> {
      statuses.add(r.statusCode());
      return null;
    });
  }
}
