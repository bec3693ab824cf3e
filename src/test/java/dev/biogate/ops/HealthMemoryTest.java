package dev.biogate.ops;

import dev.biogate.redis.EmbeddedRedis;
import dev.biogate.support.Harness;
import dev.biogate.support.TestRedis;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A Cluster drill set maxmemory on the masters under a webhook storm: for 22 s they refused every write (2,915
 * deliveries answered 503) while /health and /health/ready said Redis was healthy. A server at (or within 5 % of) its
 * maxmemory under noeviction is now reported degraded, with how full it is; the instance stays ready (reads work).
 * README: "at 100 % it refuses every write, so webhooks get 503 while reads are served and the instance stays ready".
 */
@ExtendWith(VertxExtension.class)
class HealthMemoryTest {

  @Test
  void aServerAtItsMaxmemoryIsReportedDegraded(Vertx vertx, VertxTestContext ctx) throws Exception {
    EmbeddedRedis server = TestRedis.dedicated();
    Redis admin = Redis.createClient(vertx, server.url());
    Harness h = new Harness(vertx);
    Buffer delivery = Deliveries.linktreeEvent("profile.updated", new JsonObject().put("username", "demo"));
    h.start(server.url(), new JsonObject())
      .compose(x -> h.gateway(Deliveries.config()))
      .compose(g -> h.get(g, "/v1/profiles/demo")
        .compose(read -> read.statusCode() == 200 ? Future.<Void>succeededFuture()
          : Future.<Void>failedFuture("the profile is not cached before the server fills: " + read.statusCode()))
        .compose(read -> admin.send(Request.cmd(Command.CONFIG).arg("SET").arg("maxmemory-policy").arg("noeviction")))
        .compose(v -> admin.send(Request.cmd(Command.CONFIG).arg("SET").arg("maxmemory").arg("1")))
        .compose(v -> h.eventually(() -> h.get(g, "/health").map(r -> "degraded".equals(redis(r.bodyAsJsonObject()).getString("status"))), 10_000))
        // While full: the probes, a signed webhook delivery (a write) and a read of the cached profile.
        .compose(v -> Future.all(h.get(g, "/health"), h.get(g, "/health/ready"),
          h.post(g, "/webhooks/linktree", Deliveries.linktree("memory-full-1", delivery), delivery),
          h.get(g, "/v1/profiles/demo")))
        .compose(full -> admin.send(Request.cmd(Command.CONFIG).arg("SET").arg("maxmemory").arg("0")).map(full))
        // The provider's retry is accepted once there is room again (an accepted delivery also ends the shard's
        // "refusing" mark at once, which would otherwise last 10 s), and health is back.
        .compose(full -> h.post(g, "/webhooks/linktree", Deliveries.linktree("memory-full-1", delivery), delivery)
          .compose(retry -> retry.statusCode() == 200 ? Future.succeededFuture(full)
            : Future.failedFuture("the retry once there is room: " + retry.statusCode() + " " + retry.bodyAsString())))
        .compose(full -> h.eventually(() -> h.get(g, "/health").map(r -> "healthy".equals(redis(r.bodyAsJsonObject()).getString("status"))), 10_000)
          .map(full)))
      .eventually(h::close)
      .eventually(admin::close)
      .eventually(() -> vertx.executeBlocking(() -> {
        server.close();
        return null;
      }))
      .onComplete(ctx.succeeding(full -> ctx.verify(() -> {
        JsonObject health = full.<io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer>>resultAt(0).bodyAsJsonObject();
        assertEquals(100, redis(health).getInteger("maxmemoryUsedPercent"), health.encode());
        assertEquals("degraded", health.getString("status"), health.encode());
        io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> ready = full.resultAt(1);
        assertEquals(200, ready.statusCode(), "still ready: reads are served " + ready.bodyAsString());
        io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> webhook = full.resultAt(2);
        assertEquals(503, webhook.statusCode(), "a write refused by the full server: " + webhook.bodyAsString());
        assertEquals("unavailable", webhook.bodyAsJsonObject().getString("error"), webhook.bodyAsString());
        assertEquals("5", webhook.getHeader("Retry-After"), "the provider retries: " + webhook.headers());
        io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> read = full.resultAt(3);
        assertEquals(200, read.statusCode(), "the cached profile is still served: " + read.bodyAsString());
        assertEquals("demo", read.bodyAsJsonObject().getString("username"), read.bodyAsString());
        ctx.completeNow();
      })));
  }

  private static JsonObject redis(JsonObject health) {
    return health.getJsonObject("services").getJsonObject("redis");
  }
}
