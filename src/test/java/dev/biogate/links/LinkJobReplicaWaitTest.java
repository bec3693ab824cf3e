package dev.biogate.links;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.ReplicatedHarnessTest;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A link batch job is answered 202 only once a replica holds it and its place among the active jobs, like a webhook
 * delivery: the job was stored and listed without {@code WAIT}, so a failover right after the 202 could lose it (its
 * {@code Location} then answered 404 and it never ran). No replica acknowledging in time is a 503 {@code not_replicated}.
 */
class LinkJobReplicaWaitTest extends ReplicatedHarnessTest {

  @Test
  void aJobIsAnswered202OnlyOnceAReplicaHoldsIt(Vertx vertx, VertxTestContext ctx) {
    AtomicReference<String> job = new AtomicReference<>();
    startReplicated()
      .compose(v -> h.gateway(Deliveries.config().put("webhooks", Deliveries.webhooks().put("replicaWaitMs", 500))))
      .compose(g -> submit(g).compose(r -> {
        assertEquals(202, r.statusCode(), r.bodyAsString());
        job.set(r.bodyAsJsonObject().getString("job"));
        // Answered 202 after WAIT: the replica already holds the job and its place in the active set.
        return Future.all(redis.replica().send(Request.cmd(Command.EXISTS).arg(RedisKeys.job(job.get()))),
          redis.replica().send(Request.cmd(Command.SISMEMBER).arg(RedisKeys.JOBS_ACTIVE).arg(job.get())));
      }).compose(held -> {
        assertEquals(1, held.<io.vertx.redis.client.Response>resultAt(0).toInteger(), "the replica holds the job");
        assertEquals(1, held.<io.vertx.redis.client.Response>resultAt(1).toInteger(), "and lists it as active");
        return redis.stallReplica(vertx, 3).compose(stalled -> submit(g, "campaign-42", "New"));
      }).compose(r -> {
        assertEquals(503, r.statusCode(), r.bodyAsString());
        assertEquals("not_replicated", r.bodyAsJsonObject().getString("error"), r.bodyAsString());
        // The job may stand on the master: the retry under the same Idempotency-Key finds it instead of adding a copy.
        AtomicReference<HttpResponse<Buffer>> accepted = new AtomicReference<>();
        return h.eventually(() -> submit(g, "campaign-42", "New").map(again -> {
          accepted.set(again);
          return again.statusCode() == 202;
        }), 10_000).map(v -> accepted.get());
      }).compose(r -> {
        String retried = r.bodyAsJsonObject().getString("job");
        return Future.all(submit(g, "campaign-42", "Another"),
          h.redis(Request.cmd(Command.SMEMBERS).arg(RedisKeys.JOBS_ACTIVE)),
          Future.succeededFuture(retried));
      }).map(all -> {
        HttpResponse<Buffer> reused = all.resultAt(0);
        assertEquals(409, reused.statusCode(), reused.bodyAsString());
        assertEquals("idempotency_key_reused", reused.bodyAsJsonObject().getString("error"));
        io.vertx.redis.client.Response active = all.resultAt(1);
        java.util.Set<String> ids = new java.util.HashSet<>();
        active.forEach(x -> ids.add(x.toString()));
        // Jobs finish quickly against the sandbox: whichever are still listed are the two submitted, never a copy.
        ids.removeAll(java.util.Set.of(job.get(), all.<String>resultAt(2)));
        assertEquals(java.util.Set.of(), ids, "no third job: " + active);
        return null;
      }))
      .onComplete(ctx.succeedingThenComplete());
  }

  private Future<HttpResponse<Buffer>> submit(Gateway g) {
    return submit(g, null, "New");
  }

  private Future<HttpResponse<Buffer>> submit(Gateway g, String key, String title) {
    JsonArray ops = new JsonArray().add(new JsonObject().put("op", "create").put("title", title).put("url", "https://example.com/n"));
    io.vertx.ext.web.client.HttpRequest<Buffer> post = h.http.post(g.managementPort(), "127.0.0.1", "/admin/creators/demo/links/batch")
      .putHeader("Authorization", "Bearer " + Deliveries.ADMIN_TOKEN)
      .putHeader("Content-Type", "application/json");
    if (key != null) {
      post.putHeader("Idempotency-Key", key);
    }
    return post.sendBuffer(ops.toBuffer());
  }
}
