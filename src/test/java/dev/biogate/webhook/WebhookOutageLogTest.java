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

  /**
   * "Reachable again" only once no shard refuses: on a Cluster the other masters' shards take deliveries throughout a
   * failover, and a drill saw the line 12 s before the failed master's shards took any. Here one shard is refused
   * (every write paused while a delivery to it is sent), then a delivery to another shard is taken (no line yet), then
   * one to the refused shard (the line).
   */
  @Test
  void reachableAgainIsReportedOnlyOnceTheRefusedShardTakesDeliveries(VertxTestContext ctx) {
    LogCapture capture = LogCapture.of(WebhookIngest.class, e -> e.getLevel() + " " + e.getFormattedMessage());
    JsonObject cfg = Deliveries.config().put("redis", new JsonObject().put("commandTimeoutMs", 200));
    List<Integer> statuses = new ArrayList<>();
    List<Buffer> bodies = new ArrayList<>();
    h.gateway(cfg).compose(g -> twoShards(g, 1, bodies)
      .compose(v -> g.redis().send(Request.cmd(Command.CLIENT).arg("PAUSE").arg(500).arg("WRITE")))
      .compose(v -> post(g, "refused", bodies.get(0), statuses))
      .compose(v -> h.vertx.timer(600))
      .compose(v -> post(g, "other-shard", bodies.get(1), statuses))
      .map(v -> {
        assertEquals(0, capture.lines().stream().filter(l -> l.startsWith("INFO redis reachable again")).count(),
          "another shard took a delivery while the refused one has not: " + capture.lines());
        return null;
      })
      .compose(v -> post(g, "same-shard", bodies.get(0), statuses)))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        capture.close();
        List<String> lines = capture.lines();
        assertEquals(List.of(503, 200, 200), statuses);
        assertEquals(1, lines.stream().filter(l -> l.startsWith("WARN redis unavailable for webhook ingestion")).count(), lines.toString());
        assertEquals(1, lines.stream().filter(l -> l.startsWith("INFO redis reachable again")).count(), lines.toString());
        ctx.completeNow();
      })));
  }

  /** Posts milestones until two landed on different shards (told by the shard holding each one's history); their bodies in {@code found}. */
  private Future<Void> twoShards(Gateway g, int n, List<Buffer> found) {
    Buffer body = Deliveries.milestone("shard-probe-" + n, 1000);
    String id = "probe-" + n;
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, body), body).compose(r -> {
      List<Future<Long>> held = new ArrayList<>();
      for (int s = 0; s < dev.biogate.config.WebhookOptions.DEFAULT_SHARDS; s++) {
        held.add(g.redis().send(Request.cmd(Command.EXISTS).arg(dev.biogate.redis.RedisKeys.webhookDelivery(s, "linktree", id)))
          .map(x -> x.toLong()));
      }
      return Future.all(held).map(all -> held.stream().map(Future::result).toList());
    }).compose(held -> {
      int shard = held.indexOf(1L);
      if (shard >= 0 && (shardOf.isEmpty() || shardOf.get(0) != shard)) {
        found.add(body);
        shardOf.add(shard);
      }
      return found.size() == 2 ? Future.succeededFuture() : twoShards(g, n + 1, found);
    });
  }

  private final List<Integer> shardOf = new ArrayList<>();

  private Future<Void> post(Gateway g, String id, List<Integer> statuses) {
    return post(g, id, BODY, statuses);
  }

  private Future<Void> post(Gateway g, String id, Buffer body, List<Integer> statuses) {
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, body), body).map(r -> {
      statuses.add(r.statusCode());
      return null;
    });
  }
}
