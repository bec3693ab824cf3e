package dev.biogate.ops;

import dev.biogate.Gateway;
import dev.biogate.support.Harness;
import dev.biogate.support.Topology;
import dev.biogate.support.UnstartedHarnessTest;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The operator API: bearer token or 401, JSON everywhere, cache purge reaching every instance. */
class AdminApiTest extends UnstartedHarnessTest {

  @Test
  void refusesRequestsWithoutTheRightBearerTokenAndEverythingWhenNoTokenIsConfigured(VertxTestContext ctx) {
    h.start().compose(x -> h.gateway(Deliveries.config())).compose(g -> h.gateway(new JsonObject().put("webhooks", Deliveries.webhooks())).compose(noToken ->
      Future.all(List.of(
        request(g, HttpMethod.GET, "/admin/dead-letters", null).send(),
        request(g, HttpMethod.GET, "/admin/dead-letters", "wrong-token-wrong-token-123").send(),
        request(g, HttpMethod.POST, "/admin/dead-letters/replay", "Basic " + Deliveries.ADMIN_TOKEN).send(),
        request(g, HttpMethod.POST, "/admin/cache/purge/demo", Deliveries.ADMIN_TOKEN.substring(1)).send(),
        request(noToken, HttpMethod.GET, "/admin/dead-letters", Deliveries.ADMIN_TOKEN).send(),
        request(g, HttpMethod.GET, "/admin/dead-letters", Deliveries.ADMIN_TOKEN).send(),
        request(g, HttpMethod.GET, "/admin/deliveries/nope", Deliveries.ADMIN_TOKEN).send(),
        request(g, HttpMethod.GET, "/admin/dead-letters?limit=0", Deliveries.ADMIN_TOKEN).send(),
        // An id no provider can send (a control character, a space): refused as malformed, not looked up.
        request(g, HttpMethod.GET, "/admin/deliveries/%00", Deliveries.ADMIN_TOKEN).send(),
        request(g, HttpMethod.GET, "/admin/deliveries/a%20b", Deliveries.ADMIN_TOKEN).send()))))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        for (int i = 0; i < 5; i++) {
          HttpResponse<Buffer> r = all.resultAt(i);
          assertEquals(401, r.statusCode(), "request " + i);
          assertEquals("application/json", r.getHeader("Content-Type"));
          assertEquals("unauthorized", r.bodyAsJsonObject().getString("error"));
          // Without a configured token the answer says the admin API is off: every token was refused alike before.
          assertEquals(i == 4, r.bodyAsJsonObject().getString("message").contains("disabled"), r.bodyAsString());
        }
        HttpResponse<Buffer> ok = all.resultAt(5);
        assertEquals(200, ok.statusCode());
        assertEquals(new JsonObject().put("count", 0).put("dead_letters", new io.vertx.core.json.JsonArray()), ok.bodyAsJsonObject());
        assertEquals(404, all.<HttpResponse<Buffer>>resultAt(6).statusCode());
        assertEquals(400, all.<HttpResponse<Buffer>>resultAt(7).statusCode());
        for (int i = 8; i < 10; i++) {
          HttpResponse<Buffer> r = all.resultAt(i);
          assertEquals(400, r.statusCode(), "request " + i + ": " + r.bodyAsString());
          assertEquals("invalid_id", r.bodyAsJsonObject().getString("error"), r.bodyAsString());
        }
        ctx.completeNow();
      })));
  }

  /** Purges reach the other instance through pub/sub: on Cluster, through whichever node each instance subscribed to. */
  @ParameterizedTest(name = "{0}")
  @EnumSource(Topology.class)
  void cachePurgeDropsTheSharedCopyAndEveryInstancesLocalCopy(Topology topology, VertxTestContext ctx) {
    h.start(topology).compose(x -> h.gateway(Deliveries.config())).compose(a -> h.gateway(Deliveries.config()).compose(b ->
      h.get(a, "/v1/profiles/alice").compose(r -> h.get(b, "/v1/profiles/alice")).compose(warm -> {
        assertEquals("HIT", warm.getHeader("X-Cache"));
        return request(a, HttpMethod.POST, "/admin/cache/purge/Alice", Deliveries.ADMIN_TOKEN).send();
      }).compose(purged -> {
        assertEquals(200, purged.statusCode(), purged.bodyAsString());
        assertEquals(new JsonObject().put("purged", true).put("username", "alice"), purged.bodyAsJsonObject());
        // B drops its L1 copy on the broadcast; with L2 gone too, its next read goes upstream.
        return h.eventually(() -> h.get(b, "/v1/profiles/alice").map(r -> "MISS".equals(r.getHeader("X-Cache"))), 1_000);
      }).compose(v -> h.upstreamCalls("/profiles/alice")).map(calls -> {
        assertEquals(2, calls, "one fetch before the purge, one after");
        return null;
      }))).onComplete(ctx.succeedingThenComplete());
  }

  private HttpRequest<Buffer> request(Gateway g, HttpMethod method, String path, String token) {
    HttpRequest<Buffer> r = h.http.request(method, Harness.portFor(g, path), "127.0.0.1", path);
    if (token != null) {
      r.putHeader("Authorization", token.startsWith("Basic ") ? token : "Bearer " + token);
    }
    return r;
  }
}
