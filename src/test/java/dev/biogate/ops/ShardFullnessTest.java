package dev.biogate.ops;

import dev.biogate.Gateway;
import dev.biogate.support.Harness;
import dev.biogate.support.Receiver;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each shard of a stream refuses at its share of the ceiling, so a shard can push back while the stream is far from
 * its ceiling. Found with k6: every Klaviyo batch goes to events shard 0, whose senders got 503 backlog_full with the
 * stream at 6 % of its ceiling, and the backlog alerts (backlog over ceiling) could not fire. The fullest shard's fill is
 * now a gauge the alerts read.
 */
@ExtendWith(VertxExtension.class)
class ShardFullnessTest {

  private Harness h;
  private Receiver receiver;

  @AfterEach
  void close(VertxTestContext ctx) {
    Future.all(h == null ? Future.succeededFuture() : h.close(), receiver == null ? Future.succeededFuture() : receiver.close())
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aShardAtItsShareOfTheCeilingShowsFullWhileTheStreamIsNot(Vertx vertx, VertxTestContext ctx) {
    // 4 shards of a 400-event ceiling: 100 each. The destination is down (its backlog holds one delivery), so every
    // later event waits on the events stream.
    receiver = new Receiver(vertx);
    receiver.status.set(500);
    h = new Harness(vertx);
    receiver.start().compose(r -> h.start()).compose(x -> h.gateway(Deliveries.config()
        .put("webhooks", Deliveries.webhooks().put("streamMaxLen", 400).put("shards", 4))
        .put("destinations", receiver.destinations("ops", "linktree.analytics.milestone").put("maxAttempts", 100)
          .put("breakerMaxFailures", 1_000).put("streamMaxLen", 1))))
      .compose(g -> untilRefused(g, 0).compose(refusedAt -> h.eventually(() -> h.get(g, "/metrics")
        .map(m -> gauge(m.bodyAsString(), "biogate_stream_shard_fullness{stream=\"events\"}") >= 1.0), 15_000)
        .compose(v -> h.get(g, "/metrics")).map(m -> {
          String text = m.bodyAsString();
          double backlog = gauge(text, "biogate_stream_backlog{stream=\"events\"}");
          assertTrue(backlog < 400, "the stream as a whole is below its ceiling: " + backlog + " after " + refusedAt);
          assertEquals(1.0, gauge(text, "biogate_stream_shard_fullness{stream=\"events\"}"), 0.02, text);
          return null;
        })))
      .onComplete(ctx.succeedingThenComplete());
  }

  /** Sends deliveries until the first 503 backlog_full; the number accepted before it. */
  private Future<Integer> untilRefused(Gateway g, int i) {
    if (i > 400) {
      return Future.failedFuture("never refused");
    }
    String id = "fill-" + i;
    Buffer body = Deliveries.linktreeEvent("analytics.milestone", new JsonObject().put("link_id", id)
      .put("metric", "clicks").put("value", 100).put("threshold", 100));
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, body), body).compose(r -> {
      if (r.statusCode() == 503) {
        assertEquals("backlog_full", r.bodyAsJsonObject().getString("error"), r.bodyAsString());
        return Future.succeededFuture(i);
      }
      assertEquals(200, r.statusCode(), r.bodyAsString());
      return untilRefused(g, i + 1);
    });
  }

  private static double gauge(String exposition, String series) {
    return exposition.lines().filter(l -> l.startsWith(series + " ")).mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1)))
      .findFirst().orElse(Double.NaN);
  }
}
