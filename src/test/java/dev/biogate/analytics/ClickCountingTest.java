package dev.biogate.analytics;

import dev.biogate.Gateway;
import dev.biogate.config.ClickOptions;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Clicks count people, not requests: once per client (IP + User-Agent) per link per window; bots, HEAD and
 * prefetches are redirected but never counted; one client's redirect rate is limited.
 */
class ClickCountingTest extends HarnessTest {

  private static final String LINK = "/r/demo/lnk_demo_03";
  private static final String BROWSER_A = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0";
  private static final String BROWSER_B = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1";
  private static final String BROWSER_C = "Mozilla/5.0 (Windows NT 10.0) Chrome/129.0";

  @TempDir
  Path dir;

  private Future<Gateway> gateway(JsonObject clicks, JsonObject http) {
    JsonObject cfg = Clicks.config(dir.resolve("clicks.journal"));
    cfg.getJsonObject("analytics").put("clicks", clicks);
    if (http != null) {
      cfg.put("http", http);
    }
    return h.gateway(cfg);
  }

  /** A redirect with no User-Agent header at all (the web client would add its own): its status. */
  private Future<Integer> withoutUserAgent(Vertx vertx, Gateway g) {
    io.vertx.core.http.HttpClient client = vertx.createHttpClient();
    return client.request(HttpMethod.GET, g.port(), "127.0.0.1", LINK)
      .compose(req -> req.send())
      .compose(resp -> resp.body().map(b -> resp.statusCode()))
      .eventually(client::close);
  }

  private Future<HttpResponse<Buffer>> click(Gateway g, HttpMethod m, String ua, String header, String value) {
    HttpRequest<Buffer> req = h.http.request(m, g.port(), "127.0.0.1", LINK).followRedirects(false).putHeader("User-Agent", ua);
    if (header != null) {
      req.putHeader(header, value);
    }
    return req.send();
  }

  private Future<Long> total(Gateway g, String key, long from) {
    return Clicks.query(h, g, key, "demo", from, from + 3_600_000, "hour").map(a -> a.getLong("total"));
  }

  @Test
  void aFloodFromOneClientCountsOncePerWindowAndBotsHeadAndPrefetchNever(Vertx vertx, VertxTestContext ctx) {
    long from = System.currentTimeMillis() - 60_000;
    List<HttpResponse<Buffer>> answers = new ArrayList<>();
    gateway(new JsonObject(), null).compose(g -> Clicks.issueKey(h, g, "demo").compose(key -> {
      Future<Void> chain = Future.succeededFuture();
      for (int i = 0; i < 200; i++) {
        chain = chain.compose(v -> click(g, HttpMethod.GET, BROWSER_A, null, null).map(r -> answers.add(r)).mapEmpty());
      }
      return chain
        .compose(v -> click(g, HttpMethod.GET, BROWSER_B, null, null)).map(answers::add)
        .compose(v -> click(g, HttpMethod.HEAD, BROWSER_C, null, null)).map(answers::add)
        .compose(v -> click(g, HttpMethod.GET, BROWSER_C, "Sec-Purpose", "prefetch;prerender")).map(answers::add)
        .compose(v -> click(g, HttpMethod.GET, BROWSER_C, "Purpose", "prefetch")).map(answers::add)
        .compose(v -> click(g, HttpMethod.GET, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", null, null))
        .map(answers::add)
        .compose(v -> click(g, HttpMethod.GET, "facebookexternalhit/1.1", null, null)).map(answers::add)
        .compose(v -> click(g, HttpMethod.GET, "curl/8.5.0", null, null)).map(answers::add)
        .compose(v -> click(g, HttpMethod.GET, BROWSER_C, "X-Purpose", "preview")).map(answers::add)
        .compose(v -> click(g, HttpMethod.GET, BROWSER_C, "X-Moz", "prefetch")).map(answers::add)
        .compose(v -> withoutUserAgent(vertx, g)).map(status -> {
          assertEquals(302, status, "a redirect without a User-Agent is answered");
          return null;
        })
        // The sentinel: clicks are counted in stream order, so once it is counted everything before it has been.
        .compose(v -> click(g, HttpMethod.GET, BROWSER_C, null, null)).map(answers::add)
        .compose(v -> Clicks.eventually(vertx, () -> total(g, key, from).map(t -> t >= 3), 10_000, "the sentinel is counted"))
        .compose(v -> total(g, key, from));
    })).onComplete(ctx.succeeding(total -> ctx.verify(() -> {
      for (HttpResponse<Buffer> r : answers) {
        assertEquals(302, r.statusCode(), "every redirect is answered, counted or not");
        assertEquals("https://shop.example.com/demo", r.getHeader("Location"));
      }
      assertEquals(3, total, "A once, B once, C's real click once; HEAD, prefetches, bots, curl and no User-Agent never");
      ctx.completeNow();
    })));
  }

  /**
   * Without a configured {@code fingerprintSecret}, every instance on one Redis keys its fingerprints alike, so one
   * visitor following a link on two instances counts once. Found with three instances behind a k6 drill: each process
   * drew a random secret of its own, and one visitor following one link once on each instance counted 3.
   */
  @Test
  void oneVisitorOnTwoInstancesCountsOnce(Vertx vertx, VertxTestContext ctx) {
    long from = System.currentTimeMillis() - 60_000;
    h.gateway(Clicks.config(dir.resolve("a.journal"))).compose(a -> h.gateway(Clicks.config(dir.resolve("b.journal")))
      .compose(b -> Clicks.issueKey(h, a, "demo").compose(key -> click(a, HttpMethod.GET, BROWSER_A, null, null)
        .compose(r -> Clicks.eventually(vertx, () -> Clicks.query(h, a, key, "demo", from, from + 3_600_000, "hour")
          .map(q -> q.getJsonObject("links").getLong("lnk_demo_03", 0L) == 1), 10_000, "A's click counted"))
        .compose(v -> click(b, HttpMethod.GET, BROWSER_A, null, null))
        // B's next click is counted after the repeat before it, in stream order: once it is, the repeat has been seen.
        .compose(r -> h.http.get(b.port(), "127.0.0.1", "/r/demo/lnk_demo_04").followRedirects(false)
          .putHeader("User-Agent", BROWSER_B).send())
        .compose(r -> Clicks.eventually(vertx, () -> Clicks.query(h, a, key, "demo", from, from + 3_600_000, "hour")
          .map(q -> q.getJsonObject("links").getLong("lnk_demo_04", 0L) == 1), 10_000, "B's next click counted"))
        .compose(v -> Clicks.query(h, b, key, "demo", from, from + 3_600_000, "hour")))))
      .onComplete(ctx.succeeding(q -> ctx.verify(() -> {
        assertEquals(1L, q.getJsonObject("links").getLong("lnk_demo_03"), "one visitor, one count, whichever instance: " + q);
        ctx.completeNow();
      })));
  }

  /**
   * The shared fingerprint secret survives Redis losing it, even when a new instance looks before the running ones:
   * the secret drawn first wins. Found by a re-drill: after a FLUSHALL an instance started before the others looked
   * again wrote its own new secret, every running instance switched to it, and one visitor counted twice in one window.
   */
  @Test
  void theSharedFingerprintSecretIsWrittenBackAfterRedisLostIt(Vertx vertx, VertxTestContext ctx) {
    Request get = Request.cmd(Command.GET).arg(RedisKeys.CLICK_FINGERPRINT_SECRET);
    List<ClickGate> gates = new ArrayList<>();
    gateway(new JsonObject(), null).compose(g -> h.redis(get).compose(first -> {
      assertNotNull(first, "the first instance wrote its secret");
      // Another running instance, started after the first: it takes the first one's secret.
      ClickGate running = new ClickGate(new ClickOptions(new JsonObject()), List.of(), false);
      gates.add(running);
      return running.shareSecret(vertx, g.redis(), 60_000)
        .compose(v -> h.redis(get)).map(held -> {
          assertEquals(first.toString(), held.toString(), "a later instance takes the shared secret");
          return null;
        })
        .compose(v -> h.redis(Request.cmd(Command.DEL).arg(RedisKeys.CLICK_FINGERPRINT_SECRET)))
        // A new instance looks first, with a secret of its own: drawn later than the shared one.
        .compose(v -> {
          ClickGate newcomer = new ClickGate(new ClickOptions(new JsonObject()), List.of(), false);
          gates.add(newcomer);
          return newcomer.shareSecret(vertx, g.redis(), 60_000);
        })
        .compose(v -> {
          running.stopSharing(vertx);
          return running.shareSecret(vertx, g.redis(), 60_000); // the running instance's next look
        })
        .compose(v -> h.redis(get))
        .compose(back -> {
          assertEquals(first.toString(), back.toString(), "the shared secret put back, not the newcomer's");
          // The newcomer's next look takes the shared one: lost again, it is what the newcomer writes back.
          ClickGate newcomer = gates.get(1);
          newcomer.stopSharing(vertx);
          return newcomer.shareSecret(vertx, g.redis(), 60_000)
            .compose(v -> h.redis(Request.cmd(Command.DEL).arg(RedisKeys.CLICK_FINGERPRINT_SECRET)))
            .compose(v -> {
              newcomer.stopSharing(vertx);
              return newcomer.shareSecret(vertx, g.redis(), 60_000);
            })
            .compose(v -> h.redis(get))
            .map(again -> {
              assertEquals(first.toString(), again.toString(), "the newcomer took the shared secret");
              return null;
            });
        });
    })).onComplete(ar -> {
      gates.forEach(gate -> gate.stopSharing(vertx));
      ctx.succeedingThenComplete().handle(ar);
    });
  }

  @Test
  void theSameClientCountsAgainAfterTheWindow(Vertx vertx, VertxTestContext ctx) {
    long from = System.currentTimeMillis() - 60_000;
    gateway(new JsonObject().put("windowS", 1), null).compose(g -> Clicks.issueKey(h, g, "demo").compose(key ->
        click(g, HttpMethod.GET, BROWSER_A, null, null)
          .compose(r -> Clicks.eventually(vertx, () -> total(g, key, from).map(t -> t == 1), 10_000, "first click counted"))
          // Keep clicking: within the window nothing more counts; once it has passed, the next click does.
          .compose(v -> Clicks.eventually(vertx, () -> click(g, HttpMethod.GET, BROWSER_A, null, null)
            .compose(r -> total(g, key, from)).map(t -> t == 2), 10_000, "a click after the window counted"))
          .compose(v -> total(g, key, from))))
      .onComplete(ctx.succeeding(total -> ctx.verify(() -> {
        assertEquals(2, total);
        ctx.completeNow();
      })));
  }

  @Test
  void oneClientsRedirectRateIsLimited(VertxTestContext ctx) {
    JsonObject http = new JsonObject().put("inbound", new JsonObject().put("exemptLoopback", false));
    List<Integer> statuses = new ArrayList<>();
    List<String> retryAfter = new ArrayList<>();
    List<List<String>> policies = new ArrayList<>();
    gateway(new JsonObject().put("ratePerSec", 0.01).put("burst", 3), http).compose(g -> {
      Future<Void> chain = Future.succeededFuture();
      for (int i = 0; i < 5; i++) {
        chain = chain.compose(v -> click(g, HttpMethod.GET, BROWSER_A, null, null).map(r -> {
          statuses.add(r.statusCode());
          retryAfter.add(r.getHeader("Retry-After"));
          policies.add(r.headers().getAll("RateLimit-Policy"));
          return null;
        }));
      }
      return chain.compose(v -> h.get(g, "/v1/profiles/demo"));
    }).onComplete(ctx.succeeding(profile -> ctx.verify(() -> {
      assertEquals(List.of(302, 302, 302, 429, 429), statuses);
      assertNotNull(retryAfter.get(3));
      // Both limits state their policy, each under its own name (two "default" policies were ambiguous).
      List<String> names = new ArrayList<>();
      policies.get(3).forEach(p -> names.add(p.substring(0, p.indexOf(';'))));
      assertEquals(List.of("\"default\"", "\"redirect\""), names, policies.get(3).toString());
      assertEquals(200, profile.statusCode(), "the redirect limit is its own; reads are not affected");
      ctx.completeNow();
    })));
  }

  @Test
  void anIpv6VisitorIsOneVisitorAcrossItsSlash64(Vertx vertx, VertxTestContext ctx) {
    // Behind a trusted proxy: three addresses of one /64 with one browser are one visitor; the next /64 is another.
    long from = System.currentTimeMillis() - 60_000;
    JsonObject http = new JsonObject().put("inbound", new JsonObject().put("trustedProxies", new io.vertx.core.json.JsonArray().add("127.0.0.1")));
    gateway(new JsonObject(), http).compose(g -> Clicks.issueKey(h, g, "demo").compose(key ->
        click(g, HttpMethod.GET, BROWSER_A, "X-Forwarded-For", "2001:db8:7:1::1")
          .compose(r -> click(g, HttpMethod.GET, BROWSER_A, "X-Forwarded-For", "2001:db8:7:1:aaaa::2"))
          .compose(r -> click(g, HttpMethod.GET, BROWSER_A, "X-Forwarded-For", "2001:db8:7:1:ffff:1:2:3"))
          .compose(r -> click(g, HttpMethod.GET, BROWSER_A, "X-Forwarded-For", "2001:db8:7:2::1"))
          // The sentinel, as above: counted last, so once it is, everything before it has been.
          .compose(r -> click(g, HttpMethod.GET, BROWSER_B, "X-Forwarded-For", "198.51.100.20"))
          .compose(r -> Clicks.eventually(vertx, () -> total(g, key, from).map(t -> t >= 3), 10_000, "the sentinel is counted"))
          .compose(v -> total(g, key, from))))
      .onComplete(ctx.succeeding(total -> ctx.verify(() -> {
        assertEquals(3, total, "one /64 once, the other /64 once, the sentinel once");
        ctx.completeNow();
      })));
  }
}
