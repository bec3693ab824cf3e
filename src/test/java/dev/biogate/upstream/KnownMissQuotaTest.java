package dev.biogate.upstream;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.Harness;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Names the gateway knows (read, or named by a webhook, within 30 days) keep the whole budget, and only never-seen
 * names had a per-client quota: one client reading known names nothing held a copy of (copies age out; usernames are
 * public) spent all 90 calls of the window, and another reader of an uncached creator got 20 503s in 22 reads (90 of
 * the 100 reads here were served before). Misses of known names now take a token from the client's own quota of them.
 */
@ExtendWith(VertxExtension.class)
class KnownMissQuotaTest {

  private static final int NAMES = 100;

  private Harness h;

  @AfterEach
  void stop(VertxTestContext ctx) {
    (h == null ? Future.<Void>succeededFuture() : h.close()).onComplete(ar -> ctx.completeNow());
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  void oneClientReadingKnownUncachedNamesCannotSpendTheBudget(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject cfg = new JsonObject()
      .put("linktree", new JsonObject().put("maxRetries", 0))
      .put("http", new JsonObject().put("inbound", new JsonObject().put("ratePerSec", 100_000).put("burst", 100_000)
        .put("trustedProxies", new JsonArray().add("127.0.0.1"))));
    List<HttpResponse<Buffer>> flood = new ArrayList<>();
    List<HttpResponse<Buffer>> other = new ArrayList<>();
    h.start()
      .compose(v -> known("known-", NAMES))
      .compose(v -> known("other-", 3))
      .compose(v -> h.gateway(cfg))
      .compose(g -> reads(g, "known-", NAMES, "198.51.100.66", flood).compose(v -> reads(g, "other-", 3, "198.51.100.77", other)))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        long served = flood.stream().filter(r -> r.statusCode() == 200).count();
        List<HttpResponse<Buffer>> refused = flood.stream().filter(r -> r.statusCode() != 200).toList();
        assertTrue(served >= 10 && served <= 14, "the burst of 10 and what refilled meanwhile: " + served);
        for (HttpResponse<Buffer> r : refused) {
          assertEquals(429, r.statusCode(), r.bodyAsString());
          assertEquals("miss_quota_exceeded", r.bodyAsJsonObject().getString("error"));
          assertTrue(r.headers().getAll("RateLimit-Policy").contains("\"known-miss\";q=10;w=60"),
            r.headers().getAll("RateLimit-Policy").toString());
        }
        for (HttpResponse<Buffer> r : other) {
          assertEquals(200, r.statusCode(), "another reader of an uncached creator is served: " + r.bodyAsString());
        }
        ctx.completeNow();
      })));
  }

  /** {@code n} profiles upstream, each marked known as a fetch or a webhook marks it, none cached. */
  private Future<Void> known(String prefix, int n) {
    Future<Void> done = Future.succeededFuture();
    for (int i = 0; i < n; i++) {
      String name = prefix + i;
      done = done.compose(v -> h.putProfile(name, new JsonObject().put("bio", "bio of " + name).put("links", new JsonArray())))
        .compose(v -> h.redis(Request.cmd(Command.SET).arg(RedisKeys.knownName(name)).arg("1")).mapEmpty());
    }
    return done;
  }

  private Future<Void> reads(Gateway g, String prefix, int n, String client, List<HttpResponse<Buffer>> answers) {
    Future<Void> done = Future.succeededFuture();
    for (int i = 0; i < n; i++) {
      String path = "/v1/profiles/" + prefix + i;
      done = done.compose(v -> h.http.get(g.port(), "127.0.0.1", path).putHeader("X-Forwarded-For", client).send()
        .map(r -> {
          answers.add(r);
          return null;
        }));
    }
    return done;
  }
}
