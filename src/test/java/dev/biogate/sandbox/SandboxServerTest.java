package dev.biogate.sandbox;

import dev.biogate.config.SandboxOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
class SandboxServerTest {

  private static final String TOKEN = "test-token";
  private static final String REMAINING = "X-RateLimit-Remaining";

  private Vertx vertx;
  private WebClient client;
  private int port;

  @BeforeEach
  void deploy(Vertx vertx, VertxTestContext ctx) {
    this.vertx = vertx;
    this.client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1"));
    start(new JsonObject()).onComplete(ctx.succeeding(server -> {
      port = server.actualPort();
      ctx.completeNow();
    }));
  }

  @Test
  void rejectsApiRequestsWithoutTheBearerToken(VertxTestContext ctx) {
    client.get(port, "127.0.0.1", "/profiles/demo").send()
      .compose(none -> client.get(port, "127.0.0.1", "/me").bearerTokenAuthentication("wrong").send()
        .map(wrong -> List.of(none, wrong)))
      .onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
        for (HttpResponse<Buffer> r : rs) {
          assertEquals(401, r.statusCode());
          assertEquals("unauthorized", r.bodyAsJsonObject().getString("error"));
          assertNotNull(r.bodyAsJsonObject().getString("message"));
          assertEquals("100", r.getHeader(REMAINING));
        }
        ctx.completeNow();
      })));
  }

  @Test
  void servesHealthWithoutAToken(VertxTestContext ctx) {
    client.get(port, "127.0.0.1", "/health").send().onComplete(ctx.succeeding(r -> ctx.verify(() -> {
      assertEquals(200, r.statusCode());
      assertEquals(new JsonObject().put("status", "ok"), r.bodyAsJsonObject());
      assertNotNull(r.getHeader(REMAINING));
      ctx.completeNow();
    })));
  }

  @Test
  void assemblesAll25DemoLinksFromTheProfileAndTwoMoreLinkPages(VertxTestContext ctx) {
    List<JsonObject> links = new ArrayList<>();
    get("/profiles/demo").compose(r -> {
      JsonObject profile = r.bodyAsJsonObject();
      ctx.verify(() -> {
        assertEquals(200, r.statusCode());
        assertEquals("demo", profile.getString("username"));
        assertNotNull(profile.getString("bio"));
        assertTrue(profile.getString("avatar_url").startsWith("https://"));
        assertNotNull(profile.getString("theme"));
        assertEquals(10, profile.getJsonArray("links").size());
        assertEquals("99", r.getHeader(REMAINING));
      });
      profile.getJsonArray("links").forEach(l -> links.add((JsonObject) l));
      return followLinks(profile.getString("links_next_cursor"), links, 1);
    }).onComplete(ctx.succeeding(pages -> ctx.verify(() -> {
      assertEquals(3, pages);
      assertEquals(25, links.size());
      Set<String> ids = new HashSet<>();
      for (int i = 0; i < links.size(); i++) {
        JsonObject link = links.get(i);
        assertEquals(i, link.getInteger("position"));
        assertTrue(link.getString("url").startsWith("https://"));
        assertFalse(link.getString("title").isEmpty());
        assertTrue(link.containsKey("thumbnail_url"));
        ids.add(link.getString("id"));
      }
      assertEquals(25, ids.size());
      ctx.completeNow();
    })));
  }

  @Test
  void servesTheFirstLinkPageWhenNoCursorIsGiven(VertxTestContext ctx) {
    get("/profiles/alice").compose(p -> get("/profiles/alice/links").map(l -> List.of(p, l)))
      .onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
        JsonObject profile = rs.get(0).bodyAsJsonObject();
        JsonObject page = rs.get(1).bodyAsJsonObject();
        assertEquals(profile.getJsonArray("links"), page.getJsonArray("data"));
        assertEquals(profile.getString("links_next_cursor"), page.getString("next_cursor"));
        assertNotNull(page.getString("next_cursor"));
        ctx.completeNow();
      })));
  }

  @Test
  void answersMeWithTheTokensOwnProfile(VertxTestContext ctx) {
    get("/me").compose(me -> get("/profiles/demo").map(demo -> List.of(me, demo)))
      .onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
        assertEquals(200, rs.get(0).statusCode());
        assertEquals("demo", rs.get(0).bodyAsJsonObject().getString("username"));
        assertEquals(rs.get(1).bodyAsJsonObject(), rs.get(0).bodyAsJsonObject());
        ctx.completeNow();
      })));
  }

  @Test
  void answers404JsonForUnknownUsernamesAndPaths(VertxTestContext ctx) {
    get("/profiles/nobody").compose(a -> get("/profiles/nobody/links").compose(b -> get("/nope")
        .map(c -> List.of(a, b, c))))
      .onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
        for (HttpResponse<Buffer> r : rs) {
          assertEquals(404, r.statusCode());
          assertEquals("not_found", r.bodyAsJsonObject().getString("error"));
          assertTrue(r.getHeader("Content-Type").startsWith("application/json"));
          assertNotNull(r.getHeader(REMAINING));
        }
        ctx.completeNow();
      })));
  }

  @Test
  void answers400ForACursorItDidNotIssue(VertxTestContext ctx) {
    get("/profiles/demo/links?cursor=not-a-cursor").compose(a -> get("/profiles/demo/links?cursor=" + "bm9wZQ")
        .map(b -> List.of(a, b)))
      .onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
        for (HttpResponse<Buffer> r : rs) {
          assertEquals(400, r.statusCode());
          assertEquals("invalid_cursor", r.bodyAsJsonObject().getString("error"));
        }
        ctx.completeNow();
      })));
  }

  @Test
  void answers429WithRetryAfterWhenOverTheLimitThenAdmitsAgainAfterTheWindow(VertxTestContext ctx) {
    start(new JsonObject().put("rateLimitPerMin", 5).put("rateWindowMs", 1000)).compose(server -> {
      int p = server.actualPort();
      return sequentially(6, () -> get(p, "/profiles/bob"))
        // Past the 1 s window: the window's expiry is what is under test.
        .compose(burst -> vertx.timer(1100).compose(t -> get(p, "/profiles/bob"))
          .compose(later -> admin(p, "GET", "/__sandbox/stats", null).map(stats -> {
            ctx.verify(() -> {
              for (int i = 0; i < 5; i++) {
                assertEquals(200, burst.get(i).statusCode());
                assertEquals(Integer.toString(4 - i), burst.get(i).getHeader(REMAINING));
              }
              HttpResponse<Buffer> over = burst.get(5);
              assertEquals(429, over.statusCode());
              assertEquals("1", over.getHeader("Retry-After"));
              assertEquals("0", over.getHeader(REMAINING));
              assertEquals("rate_limited", over.bodyAsJsonObject().getString("error"));
              assertEquals(200, later.statusCode());
              assertEquals("4", later.getHeader(REMAINING));
              JsonObject s = stats.bodyAsJsonObject();
              assertEquals(7, s.getLong("requests"));
              assertEquals(1, s.getLong("rate_limited"));
            });
            return null;
          })));
    }).onComplete(ctx.succeedingThenComplete());
  }

  /**
   * Every request made with the token counts against its limit, {@code /health} included (a contract pass found
   * 110 token-bearing health checks all answered 200 with the remaining count untouched); without a token
   * {@code /health} stays open and uncounted.
   */
  @Test
  void healthWithTheTokenCountsAgainstTheLimitAndWithoutItDoesNot(VertxTestContext ctx) {
    start(new JsonObject().put("rateLimitPerMin", 3).put("rateWindowMs", 60_000)).compose(server -> {
      int p = server.actualPort();
      return sequentially(4, () -> get(p, "/health"))
        .compose(withToken -> client.get(p, "127.0.0.1", "/health").send().map(open -> {
          ctx.verify(() -> {
            for (int i = 0; i < 3; i++) {
              assertEquals(200, withToken.get(i).statusCode());
              assertEquals(Integer.toString(2 - i), withToken.get(i).getHeader(REMAINING));
            }
            assertEquals(429, withToken.get(3).statusCode());
            assertEquals(200, open.statusCode(), "no token: open, not counted");
          });
          return null;
        }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void answers503WhileDownAndRecoversWhenBackToOk(VertxTestContext ctx) {
    faults(new JsonObject().put("mode", "down"))
      .compose(f -> get("/profiles/demo").compose(a -> client.get(port, "127.0.0.1", "/health").send()
        .map(b -> List.of(a, b))))
      .compose(down -> faults(new JsonObject().put("mode", "ok")).compose(f -> get("/profiles/demo"))
        .map(ok -> {
          ctx.verify(() -> {
            for (HttpResponse<Buffer> r : down) {
              assertEquals(503, r.statusCode());
              assertEquals("unavailable", r.bodyAsJsonObject().getString("error"));
              assertNotNull(r.getHeader(REMAINING));
            }
            assertEquals(200, ok.statusCode());
          });
          return null;
        }))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void answers500WithTheConfiguredErrorRate(VertxTestContext ctx) {
    faults(new JsonObject().put("mode", "error")).compose(f -> {
      ctx.verify(() -> assertEquals(1.0, f.bodyAsJsonObject().getDouble("error_rate")));
      return sequentially(5, () -> get("/profiles/demo"));
    }).compose(always -> faults(new JsonObject().put("mode", "error").put("error_rate", 0))
      .compose(f -> sequentially(5, () -> get("/profiles/demo")))
      .map(never -> {
        ctx.verify(() -> {
          for (HttpResponse<Buffer> r : always) {
            assertEquals(500, r.statusCode());
            assertEquals("internal", r.bodyAsJsonObject().getString("error"));
          }
          for (HttpResponse<Buffer> r : never) {
            assertEquals(200, r.statusCode());
          }
        });
        return null;
      })).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void delaysAnswersWhenSlowWithoutBlockingTheEventLoop(VertxTestContext ctx) {
    AtomicLong statsAnsweredAt = new AtomicLong();
    faults(new JsonObject().put("mode", "slow").put("latency_ms", 400)).compose(f -> {
      long started = System.nanoTime();
      AtomicLong slowAnsweredAt = new AtomicLong();
      Future<HttpResponse<Buffer>> slow = get("/profiles/demo").onSuccess(r -> slowAnsweredAt.set(System.nanoTime()));
      // Same verticle, same event loop: had the delay blocked it, this answer would come second.
      Future<HttpResponse<Buffer>> control = admin(port, "GET", "/__sandbox/stats", null)
        .onSuccess(r -> statsAnsweredAt.set(System.nanoTime()));
      return Future.all(slow, control).map(all -> {
        long slowMs = (slowAnsweredAt.get() - started) / 1_000_000;
        ctx.verify(() -> {
          assertEquals(200, slow.result().statusCode());
          assertEquals(10, slow.result().bodyAsJsonObject().getJsonArray("links").size());
          assertTrue(slowMs >= 400, "answered after " + slowMs + " ms");
          assertTrue(statsAnsweredAt.get() < slowAnsweredAt.get(), "control endpoint waited for the slow one");
        });
        return null;
      });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void answers429WithTheConfiguredRetryAfterInRatelimitMode(VertxTestContext ctx) {
    faults(new JsonObject().put("mode", "ratelimit").put("retry_after_s", 7))
      .compose(f -> get("/profiles/demo"))
      .compose(r -> admin(port, "GET", "/__sandbox/stats", null).map(s -> {
        ctx.verify(() -> {
          assertEquals(429, r.statusCode());
          assertEquals("7", r.getHeader("Retry-After"));
          assertEquals("0", r.getHeader(REMAINING));
          assertEquals(1, s.bodyAsJsonObject().getLong("rate_limited"));
        });
        return null;
      })).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void refusesMalformedFaultSettingsAndKeepsTheCurrentOnes(VertxTestContext ctx) {
    Future<HttpResponse<Buffer>> badJson = client.post(port, "127.0.0.1", "/__sandbox/faults")
      .sendBuffer(Buffer.buffer("{mode:"));
    badJson.compose(a -> faults(new JsonObject().put("mode", "flaky"))
        .compose(b -> faults(new JsonObject().put("mode", "error").put("error_rate", 2))
          .compose(c -> admin(port, "GET", "/__sandbox/faults", null).map(now -> List.of(a, b, c, now)))))
      .onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
        assertEquals(400, rs.get(0).statusCode());
        assertEquals("invalid_json", rs.get(0).bodyAsJsonObject().getString("error"));
        assertEquals(400, rs.get(1).statusCode());
        assertEquals("invalid_faults", rs.get(1).bodyAsJsonObject().getString("error"));
        assertEquals(400, rs.get(2).statusCode());
        assertEquals("ok", rs.get(3).bodyAsJsonObject().getString("mode"));
        ctx.completeNow();
      })));
  }

  @Test
  void servesAProfileUploadedThroughTheSandbox(VertxTestContext ctx) {
    JsonObject carol = new JsonObject().put("username", "carol").put("bio", "Ceramics").put("theme", "clay")
      .put("avatar_url", "https://cdn.example.net/avatars/carol.png")
      .put("links", new JsonArray()
        .add(new JsonObject().put("id", "c1").put("title", "Shop").put("url", "https://carol.example.com/shop"))
        .add(new JsonObject().put("id", "c2").put("title", "Classes").put("url", "https://carol.example.com/classes")
          .put("thumbnail_url", "https://cdn.example.net/thumbs/c2.jpg")));
    admin(port, "PUT", "/__sandbox/profiles/carol", carol)
      .compose(put -> get("/profiles/carol").map(got -> List.of(put, got)))
      .onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
        assertEquals(200, rs.get(0).statusCode());
        assertEquals(2, rs.get(0).bodyAsJsonObject().getJsonArray("links").size());
        JsonObject got = rs.get(1).bodyAsJsonObject();
        assertEquals(200, rs.get(1).statusCode());
        assertEquals("Ceramics", got.getString("bio"));
        assertEquals("clay", got.getString("theme"));
        JsonArray links = got.getJsonArray("links");
        assertEquals(new JsonObject().put("id", "c1").put("title", "Shop").put("url", "https://carol.example.com/shop")
          .put("position", 0).putNull("thumbnail_url"), links.getJsonObject(0));
        assertEquals("https://cdn.example.net/thumbs/c2.jpg", links.getJsonObject(1).getString("thumbnail_url"));
        assertNull(got.getString("links_next_cursor"));
        ctx.completeNow();
      })));
  }

  @Test
  void refusesAProfileWithoutALinksArray(VertxTestContext ctx) {
    admin(port, "PUT", "/__sandbox/profiles/dave", new JsonObject().put("bio", "no links"))
      .compose(a -> admin(port, "PUT", "/__sandbox/profiles/dave", new JsonObject().put("links", "nope"))
        .compose(b -> get("/profiles/dave").map(c -> List.of(a, b, c))))
      .onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
        assertEquals(400, rs.get(0).statusCode());
        assertEquals("invalid_profile", rs.get(0).bodyAsJsonObject().getString("error"));
        assertEquals(400, rs.get(1).statusCode());
        assertEquals(404, rs.get(2).statusCode());
        ctx.completeNow();
      })));
  }

  @Test
  void countsApiRequestsByPathStatusAndSecondButNotSandboxCalls(VertxTestContext ctx) {
    get("/profiles/demo").compose(r -> get("/profiles/demo"))
      .compose(r -> get("/profiles/demo/links?cursor=" + SandboxCursor.encode(10)))
      .compose(r -> get("/profiles/nobody"))
      .compose(r -> faults(new JsonObject().put("mode", "ratelimit")))
      .compose(r -> get("/profiles/demo"))
      .compose(r -> faults(new JsonObject().put("mode", "ok")))
      .compose(r -> admin(port, "GET", "/__sandbox/stats", null))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        JsonObject s = r.bodyAsJsonObject();
        assertEquals(5, s.getLong("requests"));
        assertEquals(new JsonObject().put("/profiles/demo", 3L).put("/profiles/demo/links", 1L)
          .put("/profiles/nobody", 1L), s.getJsonObject("by_path"));
        assertEquals(1, s.getLong("rate_limited"));
        assertEquals(new JsonObject().put("200", 3L).put("404", 1L).put("429", 1L), s.getJsonObject("by_status"));
        long perSecond = 0;
        for (String second : s.getJsonObject("per_second").fieldNames()) {
          assertTrue(Math.abs(Long.parseLong(second) - System.currentTimeMillis() / 1000) < 60);
          perSecond += s.getJsonObject("per_second").getLong(second);
        }
        assertEquals(5, perSecond);
        ctx.completeNow();
      })));
  }

  @Test
  void resetRestoresDemoProfilesAndClearsStatsFaultsAndLimiter(VertxTestContext ctx) {
    JsonObject tiny = new JsonObject().put("links", new JsonArray().add(new JsonObject().put("url", "https://x.example.com")));
    start(new JsonObject().put("rateLimitPerMin", 2)).compose(server -> {
      int p = server.actualPort();
      return admin(p, "PUT", "/__sandbox/profiles/demo", tiny)
        .compose(r -> admin(p, "PUT", "/__sandbox/profiles/carol", tiny))
        .compose(r -> sequentially(3, () -> get(p, "/profiles/carol")))
        .compose(burst -> {
          ctx.verify(() -> assertEquals(429, burst.get(2).statusCode()));
          return admin(p, "POST", "/__sandbox/faults", new JsonObject().put("mode", "down"));
        })
        .compose(r -> admin(p, "POST", "/__sandbox/reset", null))
        .compose(r -> admin(p, "GET", "/__sandbox/stats", null))
        .compose(cleared -> get(p, "/profiles/demo")
          .compose(demo -> get(p, "/profiles/carol")
            .compose(carol -> admin(p, "GET", "/__sandbox/faults", null).map(faults -> {
              ctx.verify(() -> {
                assertEquals(0, cleared.bodyAsJsonObject().getLong("requests"));
                assertEquals(0, cleared.bodyAsJsonObject().getLong("rate_limited"));
                assertTrue(cleared.bodyAsJsonObject().getJsonObject("by_path").isEmpty());
                assertEquals(200, demo.statusCode());
                assertEquals("1", demo.getHeader(REMAINING));
                assertEquals(10, demo.bodyAsJsonObject().getJsonArray("links").size());
                assertEquals(404, carol.statusCode());
                assertEquals("ok", faults.bodyAsJsonObject().getString("mode"));
              });
              return null;
            }))));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void failsDeploymentWhenThePortIsTaken(VertxTestContext ctx) {
    vertx.deployVerticle(new SandboxServer(new SandboxOptions(new JsonObject().put("port", port).put("token", TOKEN))))
      .onComplete(ctx.failingThenComplete());
  }

  @Test
  void servesGeneratedProfilesWhenAskedForSyntheticOnes(VertxTestContext ctx) {
    start(new JsonObject().put("syntheticProfiles", 3).put("syntheticLinks", 4)).compose(server -> {
      int p = server.actualPort();
      return get(p, "/profiles/synth-0").compose(first -> get(p, "/profiles/synth-2").compose(last ->
        get(p, "/profiles/synth-3").compose(beyond -> get(p, "/profiles/synth-02").compose(padded ->
          get(p, "/profiles/synth-2").map(again -> List.of(first, last, beyond, padded, again))))));
    }).onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
      JsonObject first = rs.get(0).bodyAsJsonObject();
      JsonObject last = rs.get(1).bodyAsJsonObject();
      assertEquals(200, rs.get(0).statusCode());
      assertEquals("synth-0", first.getString("username"));
      assertEquals(4, first.getJsonArray("links").size());
      assertEquals(200, rs.get(1).statusCode());
      assertEquals("synth-2", last.getString("username"));
      assertFalse(first.getJsonArray("links").getJsonObject(0).getString("url")
        .equals(last.getJsonArray("links").getJsonObject(0).getString("url")), "each profile has its own links");
      assertEquals(404, rs.get(2).statusCode(), "only syntheticProfiles of them exist");
      assertEquals(404, rs.get(3).statusCode(), "one spelling per profile");
      assertEquals(last, rs.get(4).bodyAsJsonObject(), "generated the same way every time");
      ctx.completeNow();
    })));
  }

  @Test
  void hasNoSyntheticProfilesByDefault(VertxTestContext ctx) {
    get("/profiles/synth-0").onComplete(ctx.succeeding(r -> ctx.verify(() -> {
      assertEquals(404, r.statusCode());
      ctx.completeNow();
    })));
  }

  private Future<SandboxServer> start(JsonObject options) {
    SandboxServer server = new SandboxServer(new SandboxOptions(options.copy().put("port", 0).put("token", TOKEN)));
    return vertx.deployVerticle(server).map(id -> server);
  }

  private Future<HttpResponse<Buffer>> get(String path) {
    return get(port, path);
  }

  private Future<HttpResponse<Buffer>> get(int p, String path) {
    return client.get(p, "127.0.0.1", path).bearerTokenAuthentication(TOKEN).send();
  }

  private Future<HttpResponse<Buffer>> faults(JsonObject settings) {
    return admin(port, "POST", "/__sandbox/faults", settings);
  }

  private Future<HttpResponse<Buffer>> admin(int p, String method, String path, JsonObject body) {
    HttpRequest<Buffer> request = client.request(HttpMethod.valueOf(method), p, "127.0.0.1", path);
    return body == null ? request.send() : request.sendJsonObject(body);
  }

  /** Follows link pages from {@code cursor}, collecting links; answers how many pages there were in all. */
  private Future<Integer> followLinks(String cursor, List<JsonObject> links, int pages) {
    if (cursor == null) {
      return Future.succeededFuture(pages);
    }
    return get("/profiles/demo/links?cursor=" + cursor).compose(r -> {
      JsonObject page = r.bodyAsJsonObject();
      page.getJsonArray("data").forEach(l -> links.add((JsonObject) l));
      return followLinks(page.getString("next_cursor"), links, pages + 1);
    });
  }

  private static Future<List<HttpResponse<Buffer>>> sequentially(int n, Supplier<Future<HttpResponse<Buffer>>> request) {
    Future<List<HttpResponse<Buffer>>> all = Future.succeededFuture(new ArrayList<>());
    for (int i = 0; i < n; i++) {
      all = all.compose(list -> request.get().map(r -> {
        list.add(r);
        return list;
      }));
    }
    return all;
  }
}
