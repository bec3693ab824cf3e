package dev.biogate.upstream;

import dev.biogate.Gateway;
import dev.biogate.support.Eventually;
import dev.biogate.support.Harness;
import dev.biogate.support.ManualClock;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nobody can spend the upstream budget by asking for names that do not exist: never-seen names get a bounded share
 * of the budget and each client a quota of them, while names the gateway knows keep the rest.
 */
@ExtendWith(VertxExtension.class)
class MissFloodTest {

  private static final int LIMIT = 30;

  private Harness h;

  @AfterEach
  void stop(VertxTestContext ctx) {
    (h == null ? Future.<Void>succeededFuture() : h.close()).onComplete(ar -> ctx.completeNow());
  }

  private static JsonObject config() {
    return new JsonObject()
      .put("linktree", new JsonObject().put("rateLimitPerMin", LIMIT).put("ratePeriodMs", 60_000).put("maxRetries", 0)
        .put("heartbeatMs", 100).put("firstSight", new JsonObject().put("quotaBurst", 3).put("quotaPerMin", 6)))
      .put("http", new JsonObject().put("inbound", new JsonObject().put("ratePerSec", 100_000).put("burst", 100_000)
        .put("trustedProxies", new JsonArray().add("127.0.0.1"))))
      .put("cache", new JsonObject().put("freshTtlMs", 1_000).put("staleWhileRevalidateMs", 1_000).put("staleIfErrorMs", 1_000)
        .put("lockWaitMs", 200));
  }

  /**
   * One client floods random missing names, 16 at a time. A known profile whose copy expired refreshes, and a
   * first-time reader of a real profile gets it, both on their first request; the flood gets at most its share.
   */
  @Test
  void randomNameFloodCannotSpendTheBudget(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    ManualClock clock = new ManualClock();
    AtomicBoolean flooding = new AtomicBoolean(true);
    AtomicInteger floodRequests = new AtomicInteger();
    Map<Integer, AtomicInteger> floodStatuses = new ConcurrentHashMap<>();
    long[] latencies = new long[2];
    Gateway[] gw = new Gateway[1];
    h.start()
      .compose(v -> h.gateway(config(), clock))
      .onSuccess(g -> gw[0] = g)
      .compose(g -> as(g, "/v1/profiles/bob", "192.0.2.10").compose(warm -> {
        assertEquals(200, warm.statusCode(), "bob is read once: the gateway now knows the name");
        for (int i = 0; i < 16; i++) {
          flood(g, flooding, floodRequests, floodStatuses);
        }
        return Eventually.until(vertx, () -> Future.succeededFuture(floodRequests.get() >= 200), 10_000);
      }).compose(v -> {
        clock.advance(10_000);
        long start = System.nanoTime();
        return as(g, "/v1/profiles/bob", "192.0.2.11").map(r -> {
          latencies[0] = System.nanoTime() - start;
          assertEquals(200, r.statusCode(), "a known profile whose copy expired refreshes during the flood");
          assertEquals("MISS", r.getHeader("X-Cache"));
          return null;
        });
      }).compose(v -> {
        long start = System.nanoTime();
        return as(g, "/v1/profiles/alice", "198.51.100.23").map(r -> {
          latencies[1] = System.nanoTime() - start;
          assertEquals(200, r.statusCode(), "a first-time reader of a real profile is served during the flood: " + r.bodyAsString());
          return null;
        });
      }))
      .compose(v -> {
        flooding.set(false);
        return h.sandboxStats();
      })
      .onComplete(ctx.succeeding(stats -> ctx.verify(() -> {
        int floodCalls = floodCalls(stats);
        System.out.printf("miss flood: %d flood requests %s, %d upstream calls used by the flood (share %d of %d),"
            + " expired known profile %.1f ms, first read of a real profile %.1f ms, upstream 429s %d%n",
          floodRequests.get(), floodStatuses, floodCalls, LIMIT / 5, LIMIT, latencies[0] / 1e6, latencies[1] / 1e6,
          stats.getInteger("rate_limited"));
        assertTrue(floodCalls <= LIMIT / 5, "the flood stays within the first-sight share: " + floodCalls);
        assertTrue(floodCalls <= 4, "and within one client's quota (burst 3, 6/min): " + floodCalls);
        floodStatuses.keySet().forEach(s -> assertTrue(s == 404 || s == 429 || s == 503, "flood answered " + s));
        assertTrue(floodStatuses.containsKey(429), "the client is told it is over its quota");
        // What an operator sees: quota refusals and first-sight admissions counted, the known name admitted as known.
        double refused = admissions(gw[0], "quota_exceeded");
        // Up to 16 flood requests are still in flight here: refused on the server, not yet seen by the client.
        assertTrue(refused >= 1 && refused <= floodStatuses.get(429).get() + 16, "quota refusals counted: " + refused + " for " + floodStatuses);
        assertTrue(admissions(gw[0], "first_sight") >= 3, "the flood's first tokens, bob's and alice's first reads");
        assertTrue(admissions(gw[0], "known") >= 1, "bob's refresh was admitted as a known name");
        // bob was fetched twice (first read, then the refresh as a known name), alice once; every page of a first read
        // takes the first-sight lane.
        assertEquals(floodCalls + callsUnder(stats, "/profiles/bob") / 2 + callsUnder(stats, "/profiles/alice"),
          permits(gw[0], "first_sight", "granted"),
          "every first-sight permit is counted: the flood's upstream calls and the pages of bob's and alice's first reads");
        ctx.completeNow();
      })));
  }

  /** Upstream calls the sandbox served for the flood's invented names. */
  private static int floodCalls(JsonObject sandboxStats) {
    int calls = 0;
    for (Map.Entry<String, Object> e : sandboxStats.getJsonObject("by_path")) {
      if (e.getKey().startsWith("/profiles/missing-")) {
        calls += ((Number) e.getValue()).intValue();
      }
    }
    return calls;
  }

  private static double admissions(Gateway g, String result) {
    return g.registry().get("biogate.upstream.miss.admissions").tag("result", result).functionCounter().count();
  }

  private static double permits(Gateway g, String lane, String result) {
    return g.registry().get("biogate.upstream.permits").tag("lane", lane).tag("result", result).functionCounter().count();
  }

  private void flood(Gateway g, AtomicBoolean flooding, AtomicInteger requests, Map<Integer, AtomicInteger> statuses) {
    flood(g, flooding, requests, statuses, "203.0.113.66");
  }

  private void flood(Gateway g, AtomicBoolean flooding, AtomicInteger requests, Map<Integer, AtomicInteger> statuses,
                     String client) {
    if (!flooding.get()) {
      return;
    }
    String name = "missing-" + ThreadLocalRandom.current().nextLong(1L << 40);
    as(g, "/v1/profiles/" + name, client).onComplete(ar -> {
      requests.incrementAndGet();
      if (ar.succeeded()) {
        statuses.computeIfAbsent(ar.result().statusCode(), k -> new AtomicInteger()).incrementAndGet();
      }
      flood(g, flooding, requests, statuses, client);
    });
  }

  private Future<HttpResponse<Buffer>> as(Gateway g, String path, String client) {
    return h.http.get(g.port(), "127.0.0.1", path).putHeader("X-Forwarded-For", client).send();
  }

  /**
   * The quota's 429 describes the quota: it carried only the edge policy's RateLimit fields, which told a client
   * that hundreds of requests remained while it was refused.
   */
  @Test
  void theQuotasRefusalCarriesItsOwnRateLimitFields(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject one = config();
    one.getJsonObject("linktree").put("firstSight", new JsonObject().put("quotaBurst", 1).put("quotaPerMin", 6).put("notFoundCost", 0));
    h.start().compose(v -> h.gateway(one))
      .compose(g -> as(g, "/v1/profiles/nobody-here-1", "203.0.113.90").compose(first -> as(g, "/v1/profiles/nobody-here-2", "203.0.113.90")))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals(429, r.statusCode(), r.bodyAsString());
        assertEquals("miss_quota_exceeded", r.bodyAsJsonObject().getString("error"));
        assertTrue(r.headers().getAll("RateLimit-Policy").contains("\"first-sight\";q=1;w=10"), r.headers().getAll("RateLimit-Policy").toString());
        String retry = r.getHeader("Retry-After");
        assertTrue(r.headers().getAll("RateLimit").contains("\"first-sight\";r=0;t=" + retry), r.headers().getAll("RateLimit").toString());
        ctx.completeNow();
      })));
  }

  /**
   * A newcomer trying a gateway from its own host got {@code 429 miss_quota_exceeded} for the demo names and nothing
   * said why. The first time a loopback client (not exempt) uses up its quota, the log says how to exempt it; once,
   * and not for other clients.
   */
  @Test
  void aLoopbackClientsFirstRefusalLogsHowToExemptItOnce(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject one = config();
    one.getJsonObject("linktree").put("firstSight", new JsonObject().put("quotaBurst", 1).put("quotaPerMin", 6).put("notFoundCost", 0));
    dev.biogate.support.LogCapture said = dev.biogate.support.LogCapture.of(MissAdmission.class,
      e -> e.getFormattedMessage().contains("BIOGATE_EXEMPT_LOOPBACK") ? e.getFormattedMessage() : null);
    h.start().compose(v -> h.gateway(one))
      .compose(g -> as(g, "/v1/profiles/nobody-x-1", "203.0.113.91").compose(x -> as(g, "/v1/profiles/nobody-x-2", "203.0.113.91"))
        .map(other -> {
          assertEquals(429, other.statusCode(), other.bodyAsString());
          assertEquals(List.of(), said.lines(), "not for a client that is not loopback");
          return g;
        }))
      .compose(g -> h.get(g, "/v1/profiles/nobody-y-1").compose(x -> h.get(g, "/v1/profiles/nobody-y-2"))
        .compose(x -> h.get(g, "/v1/profiles/nobody-y-3")))
      .eventually(() -> {
        said.close();
        return Future.succeededFuture();
      })
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals(429, r.statusCode(), r.bodyAsString());
        assertEquals(1, said.lines().size(), said.lines().toString());
        ctx.completeNow();
      })));
  }

  /**
   * With no first-sight share at all, only names the gateway has reason to know reach the upstream: one on the
   * configured list, and one a webhook named (the marker is set even though no copy was held).
   */
  @Test
  void namesOnTheListOrNamedByAWebhookAreKnown(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject cfg = new JsonObject().put("linktree", new JsonObject().put("firstSight", new JsonObject()
      .put("share", 0.0).put("quotaBurst", 0).put("known", new JsonArray().add("Alice"))));
    h.start()
      .compose(v -> h.gateway(cfg))
      .compose(g -> h.get(g, "/v1/profiles/demo").compose(stranger -> {
        assertEquals(503, stranger.statusCode(), "a never-seen name gets no permit without a first-sight share");
        // It says which share is spent: a drill read "the shared budget is used up" with 18 of 90 used.
        assertTrue(stranger.bodyAsJsonObject().getString("message").contains("names this gateway has not seen before"),
          stranger.bodyAsString());
        return h.get(g, "/v1/profiles/alice");
      }).compose(listed -> {
        assertEquals(200, listed.statusCode(), "a listed name is known");
        return g.profiles().patch("bob", dev.biogate.profile.ChangeTime.NONE, json -> json);
      }).compose(applied -> Eventually.until(vertx, () -> h.redis(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.EXISTS)
        .arg("bg:known:{bob}")).map(r -> r.toInteger() == 1), 5_000))
        .compose(v -> h.get(g, "/v1/profiles/bob"))
        .map(named -> {
          assertEquals(200, named.statusCode(), "a name a webhook carried is known");
          return null;
        }))
      .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * Two identities flood names that do not exist while their quotas refill (1 token/s here). A name that turned out
   * not to exist costs its client {@code notFoundCost} tokens, so the flood spends about its bursts and no more, and a
   * first-time reader of a real profile still finds the first-sight share open. Without that charge the two refills
   * alone would have spent the share (2 x (3 + 1/s)) within seconds. The flood runs for a stretch of real time on
   * purpose: the refill over time is what is under test.
   */
  @Test
  void namesThatDoNotExistCostTheirClientSoTwoIdentitiesCannotSpendTheShare(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject fast = config();
    fast.getJsonObject("linktree").put("rateLimitPerMin", 60).put("firstSight", new JsonObject().put("quotaBurst", 3)
      .put("quotaPerMin", 60).put("notFoundCost", 30));
    AtomicBoolean flooding = new AtomicBoolean(true);
    AtomicInteger floodRequests = new AtomicInteger();
    Map<Integer, AtomicInteger> floodStatuses = new ConcurrentHashMap<>();
    long floodStart = System.nanoTime();
    h.start()
      .compose(v -> h.gateway(fast))
      .compose(g -> {
        for (int i = 0; i < 8; i++) {
          flood(g, flooding, floodRequests, floodStatuses, i % 2 == 0 ? "203.0.113.66" : "203.0.113.67");
        }
        // Six seconds of refill: without the charge each identity would have had 3 + 6 tokens, 18 in all (the share
        // is 12 a minute).
        return Eventually.until(vertx, () -> Future.succeededFuture(System.nanoTime() - floodStart > 6_000_000_000L), 20_000)
          .compose(v -> as(g, "/v1/profiles/alice", "198.51.100.23"))
          .map(r -> {
            assertEquals(200, r.statusCode(), "a first-time reader of a real profile is served after the flood: " + r.bodyAsString());
            return null;
          });
      })
      .compose(v -> {
        flooding.set(false);
        return h.sandboxStats();
      })
      .onComplete(ctx.succeeding(stats -> ctx.verify(() -> {
        int floodCalls = floodCalls(stats);
        assertTrue(floodCalls <= 2 * 3 + 2, "the flood spent about its two bursts: " + floodCalls + " " + floodStatuses);
        ctx.completeNow();
      })));
  }

  /**
   * A stranger's own profile with thousands of links: its link pages used to be fetched on the known lane once the
   * first page was found, and a walk that hit {@code maxLinkPages} was tried again on the next read, so two reads spent
   * the whole budget and real profiles were refused. Every page of a first-sight read now takes the first-sight share,
   * the name becomes known only once the profile is whole, and a profile too large to assemble is not walked again
   * for a while.
   */
  @Test
  void aProfileWithManyLinksCannotSpendTheBudget(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject cfg = config();
    cfg.getJsonObject("linktree").put("maxLinkPages", 5).getJsonObject("firstSight").put("known", new JsonArray().add("alice").add("wide"));
    JsonArray many = new JsonArray();
    for (int i = 0; i < 400; i++) {
      many.add(new JsonObject().put("id", "lnk_" + i).put("title", "link " + i).put("url", "https://example.com/" + i).put("position", i));
    }
    JsonObject big = new JsonObject().put("bio", "many links").put("theme", "light").put("links", many);
    h.start(dev.biogate.support.TestRedis.url(), new JsonObject().put("pageSize", 10))
      .compose(v -> h.putProfile("crowded", big))
      .compose(v -> h.putProfile("wide", big))
      .compose(v -> h.gateway(cfg))
      .compose(g -> as(g, "/v1/profiles/crowded", "203.0.113.70")
        .compose(r -> as(g, "/v1/profiles/crowded", "203.0.113.70"))
        .compose(r -> as(g, "/v1/profiles/crowded", "203.0.113.71"))
        .compose(r -> as(g, "/v1/profiles/wide", "203.0.113.72"))
        .compose(r -> {
          ctx.verify(() -> assertEquals(503, r.statusCode(), "a profile beyond maxLinkPages is not served partially"));
          return as(g, "/v1/profiles/wide", "203.0.113.72");
        })
        .compose(r -> as(g, "/v1/profiles/alice", "203.0.113.73")))
      .compose(alice -> {
        ctx.verify(() -> assertEquals(200, alice.statusCode(), "a known name is still served: " + alice.bodyAsString()));
        return h.sandboxStats();
      })
      .onComplete(ctx.succeeding(stats -> ctx.verify(() -> {
        int crowded = callsUnder(stats, "/profiles/crowded");
        int wide = callsUnder(stats, "/profiles/wide");
        assertTrue(crowded <= LIMIT / 5, "a stranger's huge profile stays within the first-sight share: " + crowded + " " + stats);
        assertEquals(5, wide, "a known profile too large to assemble is walked once, up to maxLinkPages: " + stats);
        ctx.completeNow();
      })));
  }

  /**
   * A stranger's profile with more link pages than the first-sight share allows in one window is served all the same,
   * a window or so later: the pages fetched so far are kept and the next reader's walk goes on from where the last
   * one stopped. Each walk used to start again from the profile, so a never-seen creator with more than 18 link pages
   * (the share of the default budget) could never be read, and every try spent the whole share.
   */
  @Test
  void aStrangersProfileWithMorePagesThanTheShareIsAssembledAcrossWindows(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject cfg = pagedConfig();
    JsonArray many = links("lnk_", 115);
    JsonObject big = new JsonObject().put("bio", "many pages").put("theme", "light").put("links", many);
    int[] attempts = {0};
    h.start(dev.biogate.support.TestRedis.url(), new JsonObject().put("pageSize", 10))
      .compose(v -> h.putProfile("paged", big))
      .compose(v -> h.gateway(cfg))
      .compose(g -> readUntilServed(vertx, g, attempts, 40))
      .compose(served -> {
        ctx.verify(() -> {
          assertEquals(200, served.statusCode(), "served after " + attempts[0] + " reads: " + served.bodyAsString());
          assertEquals(115, served.bodyAsJsonObject().getJsonArray("links").size(), "every link, none twice");
          assertTrue(attempts[0] > 1, "the walk needed more than one window: " + attempts[0]);
        });
        return h.sandboxStats();
      })
      .onComplete(ctx.succeeding(stats -> ctx.verify(() -> {
        assertEquals(12, callsUnder(stats, "/profiles/paged"), "the profile and its 11 further link pages, each fetched once: " + stats);
        ctx.completeNow();
      })));
  }

  /**
   * A walk stopped before a webhook changed the profile is not taken up again: its pages are of the profile before the
   * change. A resumed walk served the bio its first page had, over a {@code profile.updated} answered 200 in between
   * (a re-drill), until the next refresh.
   */
  @Test
  void aStoppedWalkIsNotResumedOnceAWebhookChangedTheProfile(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject cfg = pagedConfig();
    cfg.put("webhooks", dev.biogate.webhook.Deliveries.webhooks()).put("admin", new JsonObject().put("token", dev.biogate.webhook.Deliveries.ADMIN_TOKEN));
    JsonArray many = links("lnk_", 115);
    Buffer update = new JsonObject().put("type", "profile.updated").put("data", new JsonObject().put("username", "paged")
      .put("bio", "the new bio").put("theme", "dark")).toBuffer();
    int[] attempts = {0};
    h.start(dev.biogate.support.TestRedis.url(), new JsonObject().put("pageSize", 10))
      .compose(v -> h.putProfile("paged", new JsonObject().put("bio", "the old bio").put("theme", "light").put("links", many)))
      .compose(v -> h.gateway(cfg))
      .compose(g -> as(g, "/v1/profiles/paged", "198.51.100.200")
        .compose(first -> {
          ctx.verify(() -> assertEquals(503, first.statusCode(), "the walk stops within the share: " + first.bodyAsString()));
          return h.putProfile("paged", new JsonObject().put("bio", "the new bio").put("theme", "dark").put("links", many));
        })
        .compose(v -> h.post(g, "/webhooks/linktree", dev.biogate.webhook.Deliveries.linktree("dlv-walk", update), update))
        .compose(answer -> {
          ctx.verify(() -> assertEquals(200, answer.statusCode(), answer.bodyAsString()));
          // Handled (the change written) before the next read: the delivery's history says so.
          return h.eventually(() -> h.send(io.vertx.core.http.HttpMethod.GET, g, "/admin/deliveries/dlv-walk?provider=linktree",
              dev.biogate.webhook.Deliveries.ADMIN_TOKEN)
            .map(r -> r.statusCode() == 200 && "handled".equals(r.bodyAsJsonObject().getString("outcome"))), 10_000);
        })
        .compose(v -> readUntilServed(vertx, g, attempts, 60)))
      .onComplete(ctx.succeeding(served -> ctx.verify(() -> {
        assertEquals(200, served.statusCode(), served.bodyAsString());
        assertEquals("the new bio", served.bodyAsJsonObject().getString("bio"), "not the first page fetched before the change");
        assertEquals(115, served.bodyAsJsonObject().getJsonArray("links").size());
        ctx.completeNow();
      })));
  }

  /**
   * Links added in front of a list while its walk was stopped (no webhook told of it) shift the pages its cursor
   * points into: the walk taken up again gathered some links twice and missed the new ones (a re-drill: 260 links
   * served, 240 of them distinct). Such a walk is read again from the start, and the list served is one list.
   */
  @Test
  void aWalkWhoseListMovedMeanwhileIsReadAgainFromTheStart(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject cfg = pagedConfig();
    JsonArray before = links("lnk_", 115);
    JsonArray after = links("new_", 20).addAll(before);
    int[] attempts = {0};
    h.start(dev.biogate.support.TestRedis.url(), new JsonObject().put("pageSize", 10))
      .compose(v -> h.putProfile("paged", new JsonObject().put("bio", "b").put("theme", "light").put("links", before)))
      .compose(v -> h.gateway(cfg))
      .compose(g -> as(g, "/v1/profiles/paged", "198.51.100.201")
        .compose(first -> {
          ctx.verify(() -> assertEquals(503, first.statusCode(), "the walk stops within the share: " + first.bodyAsString()));
          return h.putProfile("paged", new JsonObject().put("bio", "b").put("theme", "light").put("links", after));
        })
        .compose(v -> readUntilServed(vertx, g, attempts, 60)))
      .onComplete(ctx.succeeding(served -> ctx.verify(() -> {
        assertEquals(200, served.statusCode(), served.bodyAsString());
        JsonArray links = served.bodyAsJsonObject().getJsonArray("links");
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (int i = 0; i < links.size(); i++) {
          assertTrue(ids.add(links.getJsonObject(i).getString("id")), "served twice: " + links.getJsonObject(i));
        }
        assertEquals(135, ids.size(), "the new links too");
        ctx.completeNow();
      })));
  }

  /** The budget's window cut to 2 s (a first-sight share of 6 calls per window), up to 50 link pages. */
  private static JsonObject pagedConfig() {
    JsonObject cfg = config();
    cfg.getJsonObject("linktree").put("ratePeriodMs", 2_000).put("maxLinkPages", 50);
    return cfg;
  }

  /** {@code n} links with ids {@code <prefix>0..}, in that order. */
  private static JsonArray links(String prefix, int n) {
    JsonArray links = new JsonArray();
    for (int i = 0; i < n; i++) {
      links.add(new JsonObject().put("id", prefix + i).put("title", prefix + " " + i).put("url", "https://example.com/" + prefix + i)
        .put("position", i));
    }
    return links;
  }

  /** Reads {@code /v1/profiles/paged}, each time as a new client, every 300 ms until a 200 or {@code max} reads. */
  private Future<HttpResponse<Buffer>> readUntilServed(Vertx vertx, Gateway g, int[] attempts, int max) {
    attempts[0]++;
    return as(g, "/v1/profiles/paged", "198.51.100." + attempts[0]).compose(r -> r.statusCode() == 200 || attempts[0] >= max
      ? Future.succeededFuture(r)
      : vertx.timer(300).compose(t -> readUntilServed(vertx, g, attempts, max)));
  }

  private static int callsUnder(JsonObject sandboxStats, String prefix) {
    int calls = 0;
    for (Map.Entry<String, Object> e : sandboxStats.getJsonObject("by_path")) {
      if (e.getKey().startsWith(prefix)) {
        calls += ((Number) e.getValue()).intValue();
      }
    }
    return calls;
  }

  /** Loopback clients are limited like any other unless the operator exempts them explicitly. */
  @Test
  void loopbackIsLimitedUnlessExplicitlyExempt(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject limited = new JsonObject().put("http", new JsonObject().put("inbound", new JsonObject()
      .put("ratePerSec", 0.1).put("burst", 2)));
    JsonObject exempt = new JsonObject().put("http", new JsonObject().put("inbound", new JsonObject()
      .put("ratePerSec", 0.1).put("burst", 2).put("exemptLoopback", true)));
    h.start()
      .compose(v -> Future.all(h.gateway(limited), h.gateway(exempt)))
      .compose(all -> threeReads(all.resultAt(0)).compose(first -> threeReads(all.resultAt(1)).map(second -> {
        assertEquals(429, first, "the third read from loopback is over the limit by default");
        assertEquals(200, second, "unless loopback is exempted in the configuration");
        return null;
      })))
      .onComplete(ctx.succeedingThenComplete());
  }

  /** The exemption covers every per-client limit: the first-sight quota and the redirect rate too. */
  @Test
  void anExemptLoopbackClientIsHeldToNoPerClientLimit(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject tight = new JsonObject()
      .put("linktree", new JsonObject().put("firstSight", new JsonObject().put("quotaBurst", 1).put("quotaPerMin", 1)))
      .put("analytics", new JsonObject().put("clicks", new JsonObject().put("ratePerSec", 0.01).put("burst", 1)));
    JsonObject limited = tight.copy().put("http", new JsonObject().put("inbound", new JsonObject().put("exemptLoopback", false)));
    JsonObject exempt = tight.copy().put("http", new JsonObject().put("inbound", new JsonObject().put("exemptLoopback", true)));
    h.start()
      .compose(v -> Future.all(h.gateway(limited), h.gateway(exempt)))
      .compose(all -> perClientLimits(all.resultAt(0)).compose(first -> perClientLimits(all.resultAt(1)).map(second -> {
        assertEquals(List.of(429, 429), first, "by default the second never-seen name and the second redirect are over");
        assertEquals(List.of(200, 302), second, "an exempt loopback client meets neither limit");
        return null;
      })))
      .onComplete(ctx.succeedingThenComplete());
  }

  /** One client's first-sight quota is one across instances: a round-robin balancer does not multiply it. */
  @Test
  void theFirstSightQuotaIsSharedByEveryInstance(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject tight = new JsonObject()
      .put("linktree", new JsonObject().put("firstSight", new JsonObject().put("quotaBurst", 1).put("quotaPerMin", 1)))
      .put("http", new JsonObject().put("inbound", new JsonObject().put("exemptLoopback", false)));
    h.start()
      .compose(v -> Future.all(h.gateway(tight), h.gateway(tight)))
      .compose(all -> h.get(all.resultAt(0), "/v1/profiles/alice").compose(first -> h.get(all.resultAt(1), "/v1/profiles/bob")
        .map(second -> {
          assertEquals(200, first.statusCode(), "the quota's one token, on the first instance");
          assertEquals(429, second.statusCode(), "spent for the second instance too: " + second.bodyAsString());
          assertEquals("miss_quota_exceeded", second.bodyAsJsonObject().getString("error"));
          return null;
        })))
      .onComplete(ctx.succeedingThenComplete());
  }

  /** The statuses of a second never-seen name (after one) and of a second redirect (after one). */
  private Future<List<Integer>> perClientLimits(Gateway g) {
    Function<String, Future<HttpResponse<io.vertx.core.buffer.Buffer>>> redirect = path -> h.http.get(g.port(), "127.0.0.1", path)
      .followRedirects(false).putHeader("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0").send();
    return h.get(g, "/v1/profiles/alice").compose(r -> h.get(g, "/v1/profiles/bob")).compose(names ->
      redirect.apply("/r/alice/lnk_alice_01").compose(r -> redirect.apply("/r/alice/lnk_alice_01"))
        .map(second -> List.of(names.statusCode(), second.statusCode())));
  }

  /** The status of the third of three reads of a cached profile. */
  private Future<Integer> threeReads(Gateway g) {
    return h.get(g, "/v1/profiles/bob").compose(r -> h.get(g, "/v1/profiles/bob")).compose(r -> h.get(g, "/v1/profiles/bob"))
      .map(HttpResponse::statusCode);
  }
}
