package dev.biogate.links;

import dev.biogate.Gateway;
import dev.biogate.support.HarnessTest;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Link batch jobs against the sandbox, whose own limiter referees the budget: the sandbox allows exactly the
 * gateway's budget ({@value #LIMIT} calls per {@value #PERIOD_MS} ms, a short period so the test is quick), so any
 * overspend would be answered 429 and counted.
 */
class LinkBatchJobTest extends HarnessTest {

  private static final int LIMIT = 100;
  private static final long PERIOD_MS = 1_000;

  @Override
  protected JsonObject sandboxOptions() {
    return new JsonObject().put("rateLimitPerMin", LIMIT).put("rateWindowMs", PERIOD_MS);
  }

  @BeforeEach
  void putCampaign(VertxTestContext ctx) {
    h.putProfile("campaign", campaignProfile(250)).onComplete(ctx.succeedingThenComplete());
  }

  private static JsonObject campaignProfile(int links) {
    JsonArray list = new JsonArray();
    for (int i = 1; i <= links; i++) {
      list.add(new JsonObject().put("id", "c-" + i).put("title", "Link " + i).put("url", "https://example.com/" + i));
    }
    return new JsonObject().put("username", "campaign").put("bio", "").put("links", list);
  }

  private static JsonObject config() {
    return Deliveries.config()
      .put("linktree", new JsonObject().put("rateLimitPerMin", LIMIT).put("ratePeriodMs", PERIOD_MS).put("heartbeatMs", 100))
      .put("jobs", new JsonObject().put("pollMs", 50).put("leaseMs", 2_000));
  }

  /** 250 creates, 150 updates, 100 deletes, interleaved. */
  private static JsonArray fiveHundredOps() {
    JsonArray ops = new JsonArray();
    for (int k = 0; k < 50; k++) {
      for (int j = 0; j < 5; j++) {
        int n = 5 * k + j;
        ops.add(new JsonObject().put("op", "create").put("title", "New " + n).put("url", "https://example.com/new/" + n));
      }
      for (int j = 0; j < 3; j++) {
        int link = 3 * k + j + 1;
        ops.add(new JsonObject().put("op", "update").put("link_id", "c-" + link).put("title", "Updated " + link));
      }
      for (int j = 0; j < 2; j++) {
        ops.add(new JsonObject().put("op", "delete").put("link_id", "c-" + (151 + 2 * k + j)));
      }
    }
    return ops;
  }

  @Test
  @Timeout(value = 300, timeUnit = TimeUnit.SECONDS)
  void fiveHundredOperationsStayInTheBudgetSurviveARestartAndApplyOnce(VertxTestContext ctx) {
    AtomicReference<String> job = new AtomicReference<>();
    h.gateway(config()).compose(a -> submit(a, "campaign", fiveHundredOps()).compose(r -> {
        assertEquals(202, r.statusCode(), r.bodyAsString());
        job.set(r.bodyAsJsonObject().getString("job"));
        assertEquals("/admin/jobs/" + job.get(), r.getHeader("Location"));
        return awaitProgress(a, job.get(), p -> p.getInteger("applied") >= 100, 120_000, "100 operations applied");
      }).compose(v -> h.close(a)))
      .compose(v -> h.gateway(config()))
      .compose(b -> awaitProgress(b, job.get(), p -> "done".equals(p.getString("state")), 170_000, "the job done")
        .compose(v -> Future.all(progress(b, job.get()), writes(), h.sandboxStats())))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        JsonObject p = all.resultAt(0);
        JsonObject writes = all.resultAt(1);
        JsonObject stats = all.resultAt(2);
        assertEquals(500, p.getInteger("applied"), p.encode().substring(0, 300));
        assertEquals(0, p.getInteger("failed"));
        assertEquals(0, p.getInteger("pending"));
        assertTrue(p.getInteger("leases") >= 2, "resumed by the second instance");
        p.getJsonArray("operations").forEach(o -> assertEquals("applied", ((JsonObject) o).getString("status")));
        JsonObject applied = writes.getJsonObject("applied");
        assertEquals(500, applied.size(), "every operation reached the upstream");
        for (String key : applied.fieldNames()) {
          assertEquals(1, applied.getInteger(key), "operation " + key + " applied once");
        }
        assertEquals(500, writes.getInteger("applied_total"));
        assertEquals(0, stats.getInteger("rate_limited"), "the referee never had to refuse a call: " + stats.getJsonObject("by_status"));
        ctx.completeNow();
      })));
  }

  /**
   * A gateway that stops leaves the shared budget's roster before its Redis client closes. Left in it, its local share
   * stays reserved for the record's lifetime (over two minutes by default) and the instance that resumes a batch job
   * after a restart crawls in the lane below everyone else's reserve.
   */
  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  void aGatewayThatStopsLeavesTheSharedBudgetAtOnce(VertxTestContext ctx) {
    io.vertx.redis.client.Request roster = io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.ZCARD)
      .arg(dev.biogate.redis.RedisKeys.budgetInstances("linktree"));
    h.gateway(config()).compose(a -> h.eventually(() -> h.redis(roster).map(n -> n.toInteger() == 1), 10_000)
        .compose(v -> h.close(a)))
      .compose(v -> h.redis(roster))
      .onComplete(ctx.succeeding(n -> ctx.verify(() -> {
        assertEquals(0, n.toInteger(), "the stopped instance left the roster");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  void anOperationInterruptedMidCallIsReconciledNotRepeated(VertxTestContext ctx) {
    AtomicReference<String> job = new AtomicReference<>();
    JsonArray ops = new JsonArray().add(new JsonObject().put("op", "create").put("title", "Slow").put("url", "https://example.com/slow"));
    h.fault(new JsonObject().put("mode", "slow").put("latency_ms", 1_500))
      .compose(v -> h.gateway(config()))
      .compose(a -> submit(a, "campaign", ops).compose(r -> {
        job.set(r.bodyAsJsonObject().getString("job"));
        return h.eventually(() -> progress(a, job.get()).map(p ->
          "in_flight".equals(p.getJsonArray("operations").getJsonObject(0).getString("status"))), 10_000);
      }).compose(v -> h.close(a)))
      .compose(v -> h.gateway(config()))
      .compose(b -> h.eventually(() -> progress(b, job.get()).map(p -> "done".equals(p.getString("state"))), 20_000)
        .compose(v -> Future.all(progress(b, job.get()), writes())))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        JsonObject op = all.<JsonObject>resultAt(0).getJsonArray("operations").getJsonObject(0);
        JsonObject writes = all.resultAt(1);
        assertEquals("applied", op.getString("status"));
        assertEquals(Boolean.TRUE, op.getBoolean("resumed"), "the second instance knew the call may have happened");
        assertEquals(1, writes.getJsonObject("applied").getInteger(job.get() + ":0"), writes.encode());
        assertEquals(1, writes.getInteger("applied_total"));
        assertTrue(writes.getInteger("replayed") >= 1, "the repeat was answered from the idempotency key");
        ctx.completeNow();
      })));
  }

  /**
   * A finished job's changes show through the gateway at once. Found by a newcomer: after a job that deleted a link,
   * the gateway kept serving its cached copy, the link included, until the copy expired (minutes). The copy is now
   * marked outdated when the job finishes, so the next read fetches the profile.
   */
  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  void aFinishedJobsChangesAreReadAtOnce(VertxTestContext ctx) {
    JsonArray ops = new JsonArray().add(new JsonObject().put("op", "delete").put("link_id", "c-2"));
    JsonObject cfg = config();
    cfg.getJsonObject("linktree").put("firstSight", new JsonObject().put("known", new JsonArray().add("campaign")));
    h.gateway(cfg).compose(g -> h.get(g, "/v1/profiles/campaign").compose(before -> {
        assertTrue(before.bodyAsString().contains("\"c-2\""), "cached with the link: " + before.bodyAsString().substring(0, Math.min(600, before.bodyAsString().length())));
        return submit(g, "campaign", ops);
      })
      .compose(r -> h.eventually(() -> progress(g, r.bodyAsJsonObject().getString("job"))
        .map(p -> "done".equals(p.getString("state"))), 20_000))
      .compose(v -> h.eventually(() -> h.get(g, "/v1/profiles/campaign").map(after -> after.statusCode() == 200
        && !after.bodyAsString().contains("\"c-2\"")), 5_000)))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void refusesInvalidBatchesWithJsonErrors(VertxTestContext ctx) {
    JsonArray tooMany = new JsonArray();
    for (int i = 0; i < 1001; i++) {
      tooMany.add(new JsonObject().put("op", "delete").put("link_id", "c-1"));
    }
    h.gateway(config()).compose(g -> Future.all(java.util.List.of(
      raw(g, "/admin/creators/campaign/links/batch", Buffer.buffer("{\"op\":\"create\"}")),
      raw(g, "/admin/creators/campaign/links/batch", Buffer.buffer("[")),
      submit(g, "campaign", new JsonArray()),
      submit(g, "campaign", tooMany),
      submit(g, "campaign", new JsonArray().add(new JsonObject().put("op", "rename").put("link_id", "c-1"))),
      submit(g, "campaign", new JsonArray().add(new JsonObject().put("op", "create").put("title", "x"))),
      submit(g, "campaign", new JsonArray().add(new JsonObject().put("op", "create").put("url", "javascript:alert(1)"))),
      submit(g, "campaign", new JsonArray().add(new JsonObject().put("op", "update").put("link_id", "c-1"))),
      submit(g, "campaign", new JsonArray().add(new JsonObject().put("op", "delete").put("link_id", "../me"))),
      submit(g, "campaign", new JsonArray().add(new JsonObject().put("op", "delete").put("link_id", "c-1").put("force", true))),
      submit(g, "bad%20name", new JsonArray().add(new JsonObject().put("op", "delete").put("link_id", "c-1"))),
      h.send(io.vertx.core.http.HttpMethod.GET, g, "/admin/jobs/" + "0".repeat(32), Deliveries.ADMIN_TOKEN),
      h.send(io.vertx.core.http.HttpMethod.GET, g, "/admin/jobs/nope", Deliveries.ADMIN_TOKEN),
      h.send(io.vertx.core.http.HttpMethod.POST, g, "/admin/creators/campaign/links/batch", null))))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        String[] codes = {"invalid_batch", "malformed_json", "invalid_batch", "invalid_batch", "invalid_operation",
          "invalid_operation", "invalid_operation", "invalid_operation", "invalid_operation", "invalid_operation", "invalid_username"};
        for (int i = 0; i < codes.length; i++) {
          HttpResponse<Buffer> r = all.resultAt(i);
          assertEquals(400, r.statusCode(), i + ": " + r.bodyAsString());
          assertEquals(codes[i], r.bodyAsJsonObject().getString("error"), i + ": " + r.bodyAsString());
        }
        assertEquals(404, all.<HttpResponse<Buffer>>resultAt(11).statusCode());
        assertEquals(400, all.<HttpResponse<Buffer>>resultAt(12).statusCode());
        assertEquals(401, all.<HttpResponse<Buffer>>resultAt(13).statusCode());
        ctx.completeNow();
      })));
  }

  /**
   * At most 100 jobs are unfinished at once in a deployment: the 101st is {@code 503 too_many_jobs} with
   * {@code Retry-After: 30}, nothing written, and a batch is taken again once one has left the active set. The
   * active set is filled directly (no runner scans it meanwhile: {@code pollMs} is ten minutes).
   */
  @Test
  @SuppressWarnings("unchecked")
  void theHundredAndFirstUnfinishedJobIs503UntilOneLeaves(VertxTestContext ctx) {
    JsonObject slow = config().put("jobs", new JsonObject().put("pollMs", 600_000).put("leaseMs", 2_000));
    io.vertx.redis.client.Request fill = io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.SADD)
      .arg(dev.biogate.redis.RedisKeys.JOBS_ACTIVE);
    for (int i = 0; i < 100; i++) {
      fill.arg(String.format("%032x", i));
    }
    JsonArray ops = new JsonArray().add(new JsonObject().put("op", "delete").put("link_id", "c-1"));
    h.gateway(slow).compose(g -> h.redis(fill)
      .compose(v -> submit(g, "campaign", ops))
      .compose(refused -> h.redis(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.SCARD)
          .arg(dev.biogate.redis.RedisKeys.JOBS_ACTIVE))
        .compose(n -> h.redis(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.SREM)
          .arg(dev.biogate.redis.RedisKeys.JOBS_ACTIVE).arg(String.format("%032x", 0)))
          .compose(v -> submit(g, "campaign", ops))
          .map(accepted -> List.of(refused, n, accepted)))))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        HttpResponse<Buffer> refused = (HttpResponse<Buffer>) all.get(0);
        assertEquals(503, refused.statusCode(), refused.bodyAsString());
        assertEquals("too_many_jobs", refused.bodyAsJsonObject().getString("error"));
        assertEquals("30", refused.getHeader("Retry-After"));
        assertEquals(100, ((io.vertx.redis.client.Response) all.get(1)).toInteger(), "nothing written for the refused batch");
        HttpResponse<Buffer> accepted = (HttpResponse<Buffer>) all.get(2);
        assertEquals(202, accepted.statusCode(), accepted.bodyAsString());
        ctx.completeNow();
      })));
  }

  /**
   * A batch is a JSON body: one sent as another type, or with a content coding, is refused with {@code 415} and no job
   * is created (a batch sent as {@code text/plain} was accepted, an attack pass).
   */
  @Test
  void aBatchThatIsNotJsonIsRefusedWith415AndCreatesNoJob(VertxTestContext ctx) {
    Buffer ops = new JsonArray().add(new JsonObject().put("op", "delete").put("link_id", "c-1")).toBuffer();
    h.gateway(config()).compose(g -> Future.all(java.util.List.of(
      typed(g, "text/plain", null, ops),
      typed(g, null, null, ops),
      typed(g, "application/json; charset=latin1", null, ops),
      typed(g, "application/json", "gzip", ops),
      typed(g, "application/x-www-form-urlencoded", null, ops)))
      .compose(all -> h.redis(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.KEYS).arg("bg:job*"))
        .map(keys -> java.util.Map.entry(all, keys))))
      .onComplete(ctx.succeeding(res -> ctx.verify(() -> {
        for (int i = 0; i < res.getKey().size(); i++) {
          HttpResponse<Buffer> r = res.getKey().resultAt(i);
          assertEquals(415, r.statusCode(), i + ": " + r.bodyAsString());
          assertEquals("unsupported_media_type", r.bodyAsJsonObject().getString("error"), i + ": " + r.bodyAsString());
        }
        assertEquals(0, res.getValue().size(), "job keys: " + res.getValue());
        ctx.completeNow();
      })));
  }

  private Future<HttpResponse<Buffer>> typed(Gateway g, String contentType, String encoding, Buffer body) {
    io.vertx.ext.web.client.HttpRequest<Buffer> post = h.http.post(g.managementPort(), "127.0.0.1",
      "/admin/creators/campaign/links/batch").putHeader("Authorization", "Bearer " + Deliveries.ADMIN_TOKEN);
    if (contentType != null) {
      post.putHeader("Content-Type", contentType);
    }
    if (encoding != null) {
      post.putHeader("Content-Encoding", encoding);
    }
    return post.sendBuffer(body);
  }

  /**
   * A URL the profile would not serve is refused with the batch, not stored: a lone surrogate (sent as a JSON escape)
   * was accepted and applied as {@code ?} in its place (an attack pass), and a port that cannot exist was taken. A
   * title with a lone surrogate likewise.
   */
  @Test
  void aUrlTheProfileWouldDropIsRefusedNotRewritten(VertxTestContext ctx) {
    h.gateway(config()).compose(g -> Future.all(java.util.List.of(
      raw(g, "/admin/creators/campaign/links/batch",
        Buffer.buffer("[{\"op\":\"create\",\"title\":\"x\",\"url\":\"https://example.com/\\ud800\"}]")),
      // So is a title holding one (a later pass: created upstream as "?").
      raw(g, "/admin/creators/campaign/links/batch",
        Buffer.buffer("[{\"op\":\"create\",\"title\":\"\\ud800\",\"url\":\"https://example.com/\"}]")),
      submit(g, "campaign", new JsonArray().add(new JsonObject().put("op", "create").put("title", "x")
        .put("url", "https://example.com:99999/"))))))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        for (int i = 0; i < all.size(); i++) {
          HttpResponse<Buffer> r = all.resultAt(i);
          assertEquals(400, r.statusCode(), i + ": " + r.bodyAsString());
          assertEquals("invalid_operation", r.bodyAsJsonObject().getString("error"), i + ": " + r.bodyAsString());
        }
        ctx.completeNow();
      })));
  }

  private Future<HttpResponse<Buffer>> submit(Gateway g, String username, JsonArray ops) {
    return raw(g, "/admin/creators/" + username + "/links/batch", ops.toBuffer());
  }

  private Future<HttpResponse<Buffer>> raw(Gateway g, String path, Buffer body) {
    return h.http.post(g.managementPort(), "127.0.0.1", path).putHeader("Authorization", "Bearer " + Deliveries.ADMIN_TOKEN)
      .putHeader("Content-Type", "application/json").sendBuffer(body);
  }

  /**
   * Waits on the job's progress view, asking four times a second: the view of 500 operations is a large answer, and
   * asking for it every few milliseconds on a loaded machine would slow the job it watches.
   */
  private Future<Void> awaitProgress(Gateway g, String job, java.util.function.Predicate<JsonObject> done, long timeoutMs,
                                     String what) {
    return dev.biogate.support.Eventually.until(h.vertx, () -> progress(g, job).map(done::test), timeoutMs, what, 250);
  }

  private Future<JsonObject> progress(Gateway g, String job) {
    return h.send(io.vertx.core.http.HttpMethod.GET, g, "/admin/jobs/" + job, Deliveries.ADMIN_TOKEN).map(r -> {
      if (r.statusCode() != 200) {
        throw new IllegalStateException(r.statusCode() + " " + r.bodyAsString());
      }
      return r.bodyAsJsonObject();
    });
  }

  private Future<JsonObject> writes() {
    return h.http.get(h.sandboxPort(), "127.0.0.1", "/__sandbox/writes").send().map(HttpResponse::bodyAsJsonObject);
  }
}
