package dev.biogate.events;

import dev.biogate.Gateway;
import dev.biogate.destination.OutboundKeys;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.ReplicatedHarnessTest;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.Test;

import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A dead-letter replay is answered 200 only once a replica holds the move, as deliveries and jobs are: the replay
 * scripts ran without {@code WAIT}, so a failover right after the 200 could put the entry back among the dead letters
 * (the operator's replay silently undone). No replica acknowledging in time is a {@code 503 not_replicated}; the
 * retry then moves it, or finds it moved. For the events shards' dead letters, the outbound destinations' and the
 * Klaviyo sink's.
 */
class DeadLetterReplicaWaitTest extends ReplicatedHarnessTest {

  private static final JsonObject EVENT = new JsonObject().put("provider", "linktree").put("type", "link.updated")
    .put("body", "{}").put("attempts", "5").put("error", "handler failed").put("received", "1").put("failed_at", "2");

  @Test
  void anEventsReplayIsAnswered200OnlyOnceAReplicaHoldsIt(Vertx vertx, VertxTestContext ctx) {
    String dead = RedisKeys.deadLettersShard(0);
    replayIsDurable(vertx, Deliveries.config(), dead,
      n -> EVENT.copy().put("delivery_id", "dead-" + n),
      id -> "/admin/dead-letters/" + id + "/replay?shard=0", false).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void anOutboundReplayIsAnswered200OnlyOnceAReplicaHoldsIt(Vertx vertx, VertxTestContext ctx) {
    replayIsDurable(vertx, Deliveries.config(), OutboundKeys.DEAD,
      n -> EVENT.copy().put("webhook_id", "msg_" + "0".repeat(31) + n).put("destination", "ops"),
      id -> "/admin/destinations/dead-letters/" + id + "/replay", false).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aKlaviyoSinkReplayIsAnswered200OnlyOnceAReplicaHoldsIt(Vertx vertx, VertxTestContext ctx) {
    // The sink on, against an API nobody answers: only the replay is under test.
    JsonObject cfg = Deliveries.config().put("klaviyo", new JsonObject().put("enabled", true)
      .put("apiBase", "http://127.0.0.1:9").put("privateKey", "pk_" + "0".repeat(34)));
    replayIsDurable(vertx, cfg, RedisKeys.KLAVIYO_DLQ,
      n -> new JsonObject().put("event_id", "kl-dead-" + n).put("error", "rejected"),
      id -> "/admin/sinks/klaviyo/replay?limit=1", true).onComplete(ctx.succeedingThenComplete());
  }

  /**
   * Seeds a dead letter on the master and replays it (200, the replica no longer holds it as dead); then stalls the
   * replica, seeds another and replays it (503 {@code not_replicated}); once the replica is back, a retry settles it
   * (200, or 404 when the first move stood) and the replica no longer holds it as dead. With {@code counted} (the
   * Klaviyo replay, which moves the oldest dead letters rather than one by id): the first replay answers
   * {@code "replayed":1}, and the retry's 200 {@code "replayed":0}, since it counts only what it moved and the entry
   * was moved on the master by the replay answered 503 (README: "the Klaviyo replay counts only what it moved").
   */
  private Future<Void> replayIsDurable(Vertx vertx, JsonObject cfg, String dead, Function<Integer, JsonObject> entry,
                                       Function<String, String> replayPath, boolean counted) {
    HttpResponse<Buffer>[] settled = new HttpResponse[1];
    JsonObject withWait = cfg.put("webhooks", cfg.getJsonObject("webhooks").copy().put("replicaWaitMs", 500));
    return startReplicated()
      .compose(v -> h.gateway(withWait))
      .compose(g -> seed(dead, entry.apply(1)).compose(id -> replay(g, replayPath.apply(id)).compose(r -> {
          assertEquals(200, r.statusCode(), r.bodyAsString());
          if (counted) {
            assertEquals(1, r.bodyAsJsonObject().getInteger("replayed"), "the one dead letter moved: " + r.bodyAsString());
            assertEquals(0, r.bodyAsJsonObject().getInteger("dead_letters"), r.bodyAsString());
          }
          // Answered after WAIT: the replica already saw the move, no polling needed.
          return redis.replica().send(Request.cmd(Command.XRANGE).arg(dead).arg(id).arg(id));
        }).map(onReplica -> {
          assertEquals(0, onReplica.size(), "the replica still holds " + id + " as a dead letter after the 200");
          return g;
        }))
        .compose(gw -> seed(dead, entry.apply(2)).compose(id -> redis.stallReplica(vertx, 3)
          .compose(stalled -> replay(gw, replayPath.apply(id)))
          .compose(r -> {
            assertEquals(503, r.statusCode(), r.bodyAsString());
            assertEquals("not_replicated", r.bodyAsJsonObject().getString("error"), r.bodyAsString());
            return h.eventually(() -> replay(gw, replayPath.apply(id)).map(again -> {
              settled[0] = again;
              return again.statusCode() == 200 || again.statusCode() == 404;
            }), 10_000);
          })
          .map(v -> {
            if (counted) {
              assertEquals(200, settled[0].statusCode(), settled[0].bodyAsString());
              assertEquals(0, settled[0].bodyAsJsonObject().getInteger("replayed"),
                "the retry counts only what it moved, not the entry the 503'd replay moved: " + settled[0].bodyAsString());
              assertEquals(0, settled[0].bodyAsJsonObject().getInteger("dead_letters"), settled[0].bodyAsString());
            }
            return v;
          })
          .compose(v -> h.eventually(() -> redis.replica().send(Request.cmd(Command.XRANGE).arg(dead).arg(id).arg(id))
            .map(onReplica -> onReplica.size() == 0), 5_000)))));
  }

  /** XADDs {@code fields} to {@code stream} on the master; completes with the entry's id. */
  private Future<String> seed(String stream, JsonObject fields) {
    Request add = Request.cmd(Command.XADD).arg(stream).arg("*");
    fields.forEach(f -> add.arg(f.getKey()).arg(String.valueOf(f.getValue())));
    return h.redis(add).map(Response::toString);
  }

  private Future<HttpResponse<Buffer>> replay(Gateway g, String path) {
    return h.http.post(g.managementPort(), "127.0.0.1", path)
      .putHeader("Authorization", "Bearer " + Deliveries.ADMIN_TOKEN).send();
  }
}
