package dev.biogate.http;

import dev.biogate.Gateway;
import dev.biogate.config.HttpOptions;
import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The client behind trusted proxies is found like nginx realip: every X-Forwarded-For line, walked from the right,
 * trusted CIDRs skipped. Measured through the edge limit (burst 2): requests from one real client share one bucket
 * whatever they put in the hops a proxy does not vouch for.
 */
class ClientIpTest extends HarnessTest {

  private Future<Gateway> gateway(boolean exemptLoopback) {
    JsonObject inbound = new JsonObject().put("ratePerSec", 0.01).put("burst", 2)
      .put("trustedProxies", new JsonArray().add("127.0.0.0/8").add("10.0.0.0/8"));
    if (exemptLoopback) {
      inbound.put("exemptLoopback", true);
    }
    return h.gateway(new JsonObject().put("http", new JsonObject().put("inbound", inbound)));
  }

  /** {@code GET /v1/profiles/demo} with the given X-Forwarded-For lines, one header per line. */
  private Future<Integer> get(Gateway g, String... xffLines) {
    return getPath(g, "/v1/profiles/demo", xffLines);
  }

  private Future<Integer> getPath(Gateway g, String uri, String... xffLines) {
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(g.port()).setURI(uri);
    for (String line : xffLines) {
      o.addHeader("X-Forwarded-For", line);
    }
    io.vertx.core.http.HttpClient client = h.vertx.createHttpClient(); // closed at the end, never collected midway
    return client.request(o).compose(req -> req.send()).compose(resp -> resp.body().map(b -> resp.statusCode()))
      .eventually(client::close);
  }

  private Future<List<Integer>> sequence(Gateway g, int n, java.util.function.IntFunction<String[]> lines) {
    List<Integer> out = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < n; i++) {
      int k = i;
      chain = chain.compose(v -> get(g, lines.apply(k)).map(s -> {
        out.add(s);
        return null;
      }));
    }
    return chain.map(out);
  }

  @Test
  void everyForwardedLineCountsSoASpoofedFirstLineDoesNotBuyAFreshBucket(VertxTestContext ctx) {
    gateway(false).compose(g -> sequence(g, 4, i -> new String[] {"198.51.100." + i, "203.0.113.7, 10.1.2.3"}))
      .onComplete(ctx.succeeding(statuses -> ctx.verify(() -> {
        assertEquals(List.of(200, 200, 429, 429), statuses, "one client (203.0.113.7) behind two proxies");
        ctx.completeNow();
      })));
  }

  @Test
  void walkStopsAtTheFirstUntrustedHopFromTheRight(VertxTestContext ctx) {
    // Different spoofed left parts, same real client right of them: one bucket. A different real client: its own.
    gateway(false).compose(g -> sequence(g, 3, i -> new String[] {"1.1.1." + i + ", 203.0.113.9, 10.0.0.1"})
        .compose(first -> get(g, "203.0.113.10").map(other -> List.of(first.get(0), first.get(1), first.get(2), other))))
      .onComplete(ctx.succeeding(statuses -> ctx.verify(() -> {
        assertEquals(List.of(200, 200, 429, 200), statuses);
        ctx.completeNow();
      })));
  }

  /**
   * Health probes are never limited (a balancer probing through the same proxy as the traffic must not see an
   * instance as down because its clients used their burst), and only they: {@code /healthz} and {@code /health/foo}
   * (a 404) are limited like any path (they used to pass on the prefix alone, unlimited paths for anyone).
   */
  @Test
  void healthProbesAreNeverLimitedAndNoOtherPathIs(VertxTestContext ctx) {
    String client = "203.0.113.50";
    List<String> paths = List.of("/v1/profiles/demo", "/v1/profiles/demo", "/health/live", "/health/ready", "/health",
      "/health/live", "/health/ready", "/health", "/healthz", "/health-check", "/health/foo", "/v1/profiles/demo");
    gateway(false).compose(g -> {
      List<Integer> out = new ArrayList<>();
      Future<Void> chain = Future.succeededFuture();
      for (String p : paths) {
        chain = chain.compose(v -> getPath(g, p, client).map(st -> {
          out.add(st);
          return null;
        }));
      }
      return chain.map(out);
    }).onComplete(ctx.succeeding(statuses -> ctx.verify(() -> {
      assertEquals(List.of(200, 200, 200, 200, 200, 200, 200, 200, 429, 429, 429, 429), statuses, String.valueOf(paths));
      ctx.completeNow();
    })));
  }

  @Test
  void claimingLoopbackThroughAProxyIsNotAnExemption(VertxTestContext ctx) {
    gateway(false).compose(g -> sequence(g, 3, i -> new String[] {"127.0.0.1"}))
      .onComplete(ctx.succeeding(statuses -> ctx.verify(() -> {
        assertEquals(List.of(200, 200, 429), statuses);
        assertFalse(new HttpOptions(new JsonObject()).exemptLoopback(), "loopback is exempt only when configured");
        ctx.completeNow();
      })));
  }

  @Test
  void loopbackIsExemptWhenConfigured(VertxTestContext ctx) {
    gateway(true).compose(g -> sequence(g, 4, i -> new String[0]))
      .onComplete(ctx.succeeding(statuses -> ctx.verify(() -> {
        assertEquals(List.of(200, 200, 200, 200), statuses);
        ctx.completeNow();
      })));
  }

  @Test
  void anIpv6ClientIsOneClientAcrossItsSlash64(VertxTestContext ctx) {
    // One subscriber holds a whole /64 and may pick any address in it per request: keyed by the full address, it
    // would get a fresh bucket every time. A neighbour in another /64 keeps its own.
    gateway(false).compose(g -> sequence(g, 4, i -> new String[] {"2001:db8:1:2:" + Integer.toHexString(i + 1) + "::" + (i + 7)})
        .compose(first -> get(g, "2001:db8:1:3::1").map(other -> List.of(first.get(0), first.get(1), first.get(2), first.get(3), other))))
      .onComplete(ctx.succeeding(statuses -> ctx.verify(() -> {
        assertEquals(List.of(200, 200, 429, 429, 200), statuses);
        ctx.completeNow();
      })));
  }

  @Test
  void aHopWithAPortIsTheClientItNamesNotTheProxy(VertxTestContext ctx) {
    // A proxy that writes "IP:port": one client over several connections is one client, and another is another. The
    // hop used to be unreadable, which made every client the proxy itself, all in one bucket.
    gateway(false).compose(g -> sequence(g, 3, i -> new String[] {"198.51.100.1:" + (5555 + i)})
        .compose(first -> get(g, "203.0.113.9:6666").compose(other -> get(g, "[2001:db8:9::1]:443")
          .map(third -> List.of(first.get(0), first.get(1), first.get(2), other, third)))))
      .onComplete(ctx.succeeding(statuses -> ctx.verify(() -> {
        assertEquals(List.of(200, 200, 429, 200, 200), statuses);
        ctx.completeNow();
      })));
  }
}
