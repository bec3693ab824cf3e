package dev.biogate.profile;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.DedicatedRedisTest;
import dev.biogate.support.Harness;
import dev.biogate.support.TestRedis;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A webhook never takes away the last good copy while the upstream is down: a change the gateway cannot apply, or
 * one that finds no shared copy (Redis lost its data), leaves every instance a copy it serves if the upstream fails,
 * and the next read once the upstream answers fetches the current profile.
 */
class LastGoodCopyTest extends DedicatedRedisTest {

  // A short breaker reset, so that the read after the outage reaches the upstream again at once.
  private static final JsonObject CONFIG = Deliveries.config()
    .put("linktree", new JsonObject().put("breakerResetMs", 10));
  private static final JsonObject DOWN = new JsonObject().put("mode", "down");
  private static final JsonObject OK = new JsonObject().put("mode", "ok");

  @Test
  void anIncompleteLinkEventKeepsTheLastGoodCopyServedWhileTheUpstreamIsDown(VertxTestContext ctx) {
    JsonObject partial = new JsonObject().put("username", "partial").put("link_id", "l1").put("title", "only a title");
    h.putProfile("partial", Profiles.withBio("first bio"))
      .compose(v -> twoGateways()).compose(g -> Profiles.bio(h, g[0], "partial")
        .compose(v -> Profiles.bio(h, g[1], "partial"))
        .compose(v -> h.fault(DOWN))
        .compose(v -> deliver(g[0], "partial-1", "link.updated", partial))
        .compose(v -> servedStaleIfError(g[0], "partial", "first bio")).compose(bio -> {
          assertEquals("first bio", bio, "the instance that handled the event");
          return servedStaleIfError(g[1], "partial", "first bio");
        }).compose(bio -> {
          assertEquals("first bio", bio, "the other instance, once the change reached it");
          return h.putProfile("partial", Profiles.withBio("second bio"));
        })
        .compose(v -> h.fault(OK))
        .compose(v -> h.get(g[1], "/v1/profiles/partial")))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals("MISS", r.getHeader("X-Cache"), "the copy was kept only to be refreshed at the next read");
        assertEquals("second bio", r.bodyAsJsonObject().getString("bio"));
        ctx.completeNow();
      })));
  }

  @Test
  void aProfileEventAfterRedisLostItsDataKeepsTheHeldCopiesServedWhileTheUpstreamIsDown(VertxTestContext ctx) {
    h.putProfile("wiped", Profiles.withBio("first bio"))
      .compose(v -> twoGateways()).compose(g -> Profiles.bio(h, g[0], "wiped")
        .compose(v -> h.get(g[1], "/v1/profiles/wiped")).compose(held -> {
          assertEquals("HIT", held.getHeader("X-Cache"), "both instances hold the copy in L1");
          return h.vertx.executeBlocking(() -> {
            redis.restart(); // empty: no copy, no version
            return null;
          });
        })
        .compose(v -> h.fault(DOWN))
        // Both instances listen for invalidations again, so the webhook's write reaches them.
        .compose(v -> h.eventually(() -> h.redis(Request.cmd(Command.PUBSUB).arg("NUMSUB").arg(RedisKeys.invalidateChannel(0)))
          .map(r -> r.get(1).toInteger() == 2), 10_000))
        .compose(v -> h.putProfile("wiped", Profiles.withBio("post-wipe bio")))
        .compose(v -> deliver(g[1], "wiped-1", "profile.updated", new JsonObject().put("username", "wiped")
          .put("bio", "post-wipe bio").put("avatar_url", Profiles.AVATAR).put("theme", "dusk")))
        .compose(v -> servedStaleIfError(g[0], "wiped", "post-wipe bio")).compose(bio -> {
          assertEquals("post-wipe bio", bio, "the held copy, patched by the event");
          return servedStaleIfError(g[1], "wiped", "post-wipe bio");
        }).compose(bio -> {
          assertEquals("post-wipe bio", bio, "the instance that handled the event");
          return h.fault(OK);
        })
        .compose(v -> h.get(g[0], "/v1/profiles/wiped")))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals("MISS", r.getHeader("X-Cache"), "a copy no fetch confirmed is refreshed at the next read");
        assertEquals("post-wipe bio", r.bodyAsJsonObject().getString("bio"));
        ctx.completeNow();
      })));
  }

  private Future<Gateway[]> twoGateways() {
    return h.gateway(CONFIG).compose(a -> h.gateway(CONFIG).map(b -> new Gateway[] {a, b}));
  }

  /**
   * Reads until the gateway serves its copy as stale-if-error with {@code bio} (an instance that has not yet heard of
   * the change still serves its own L1 copy: as a hit while fresh, as stale-if-error once stale, which the suite once
   * caught before the change arrived); completes with the bio served, or fails naming the last answer.
   */
  private Future<String> servedStaleIfError(Gateway g, String username, String bio) {
    HttpResponse<?>[] last = new HttpResponse<?>[1];
    return h.eventually(() -> h.get(g, "/v1/profiles/" + username).map(r -> {
      last[0] = r;
      return r.statusCode() == 200 && r.getHeader("Cache-Status").contains("stale-if-error")
        && bio.equals(r.bodyAsJsonObject().getString("bio"));
    }), 5_000)
      .map(v -> last[0].bodyAsJsonObject().getString("bio"))
      .recover(err -> Future.failedFuture(new AssertionError("GET " + username + " last answered " + last[0].statusCode()
        + " " + last[0].getHeader("Cache-Status") + " " + last[0].bodyAsString(), err)));
  }

  /**
   * Delivers a signed Linktree event through {@code g}, again while the gateway answers 503 (its Redis is coming back)
   * as a provider would, and completes once the gateway has handled it.
   */
  private Future<Void> deliver(Gateway g, String deliveryId, String type, JsonObject data) {
    Buffer body = Deliveries.linktreeEvent(type, data);
    return h.eventually(() -> h.post(g, "/webhooks/linktree", Deliveries.linktree(deliveryId, body), body)
        .map(r -> r.statusCode() == 200), 10_000)
      .compose(v -> h.eventually(() -> h.http.get(g.managementPort(), "127.0.0.1", "/admin/deliveries/" + deliveryId)
        .bearerTokenAuthentication(Deliveries.ADMIN_TOKEN).send()
        .map(r -> r.statusCode() == 200 && "handled".equals(r.bodyAsJsonObject().getString("outcome"))), 5_000));
  }
}
