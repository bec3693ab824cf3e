package dev.biogate.upstream;

import dev.biogate.Gateway;
import dev.biogate.redis.EmbeddedRedis;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.Harness;
import dev.biogate.support.Eventually;
import dev.biogate.support.ManualClock;
import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster-wide upstream budget against a real Redis. The sandbox doubles as referee: it is configured with the
 * same limit over a slightly shorter sliding window, so any burst over the budget in any rolling window shows up
 * as a 429 it counts ({@code rate_limited}).
 */
@ExtendWith(VertxExtension.class)
class UpstreamBudgetTest {

  private Harness h;
  private EmbeddedRedis ownRedis;

  @AfterEach
  void stop(VertxTestContext ctx) throws Exception {
    Future<Void> closing = h == null ? Future.succeededFuture() : h.close();
    closing.onComplete(ar -> {
      try {
        if (ownRedis != null) {
          ownRedis.stop();
        }
      } catch (Exception ignored) {
        // best effort
      }
      ctx.completeNow();
    });
  }

  private static JsonObject budget(int limit, long periodMs) {
    return new JsonObject()
      .put("linktree", new JsonObject().put("rateLimitPerMin", limit).put("ratePeriodMs", periodMs).put("maxRetries", 0)
        .put("heartbeatMs", 100).put("firstSight", new JsonObject().put("share", 1.0).put("quotaBurst", 0)))
      .put("cache", new JsonObject().put("lockWaitMs", 200));
  }

  private static JsonObject referee(int limit, long periodMs) {
    return new JsonObject().put("rateLimitPerMin", limit).put("rateWindowMs", periodMs - 300);
  }

  @Test
  void threeInstancesNeverExceedTheBudgetInAnyWindow(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject cfg = budget(10, 2_000);
    // Every name here is new to the gateway: no foreground reserve, so the whole budget is theirs to use.
    cfg.getJsonObject("linktree").put("foregroundReserve", 0.0);
    h.start(TestRedis.url(), referee(10, 2_000))
      .compose(v -> Future.all(h.gateway(cfg), h.gateway(cfg), h.gateway(cfg)))
      .compose(all -> {
        List<Gateway> gs = List.of(all.resultAt(0), all.resultAt(1), all.resultAt(2));
        // 300 distinct uncached profiles, in 6 waves of 50 across ~5 s (2.5 windows), through all three instances.
        Future<List<HttpResponse<Buffer>>> waves = Future.succeededFuture(new ArrayList<>());
        for (int w = 0; w < 6; w++) {
          int wave = w;
          // The 1 s spacing is the load shape under test (waves across windows), not a wait for a condition.
          waves = waves.compose(acc -> vertx.timer(wave == 0 ? 1 : 1_000).compose(t -> {
            List<Future<HttpResponse<Buffer>>> reads = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
              int n = wave * 50 + i;
              reads.add(h.get(gs.get(n % 3), "/v1/profiles/user" + n));
            }
            return Future.all(reads).map(cf -> {
              for (int i = 0; i < 50; i++) {
                acc.add(cf.resultAt(i));
              }
              return acc;
            });
          }));
        }
        return waves;
      })
      .compose(responses -> h.sandboxStats().map(stats -> {
        int served = 0;
        for (HttpResponse<Buffer> r : responses) {
          assertTrue(r.statusCode() == 404 || r.statusCode() == 503, "unknown profile or no budget: " + r.statusCode());
          if (r.statusCode() == 503) {
            assertNotNull(r.getHeader("Retry-After"));
          } else {
            served++;
          }
        }
        assertEquals(0, stats.getInteger("rate_limited"), "the upstream never saw more than the budget in a window: " + stats);
        int calls = stats.getInteger("requests");
        assertEquals(served, calls, "every upstream call answered one reader");
        assertTrue(calls >= 20 && calls <= 40, "the budget was used, within 10 per 2 s window over ~5 s: " + calls);
        return null;
      }))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void foregroundMissesGetPermitsWhileBackgroundRefreshesWait(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    ManualClock clock = new ManualClock();
    JsonObject cfg = budget(10, 60_000).put("cache", new JsonObject().put("freshTtlMs", 1_000).put("staleWhileRevalidateMs", 600_000));
    // alice is a known name: her miss is a foreground one (a never-seen name stops where refreshes stop, for every page).
    cfg.getJsonObject("linktree").getJsonObject("firstSight").put("known", new io.vertx.core.json.JsonArray().add("alice"));
    h.start()
      .compose(v -> h.gateway(cfg, clock))
      .compose(g -> h.get(g, "/v1/profiles/bob").compose(warm -> {
        assertEquals("MISS", warm.getHeader("X-Cache"));
        // Spend the budget down to 6 of 10: background (ceiling 5) is now shut out, foreground (ceiling 10) is not.
        Future<Void> spend = Future.succeededFuture();
        for (int i = 0; i < 5; i++) {
          spend = spend.compose(x -> g.budget().acquire(Lane.FOREGROUND).mapEmpty());
        }
        return spend;
      }).compose(v -> {
        clock.advance(2_000);
        return h.get(g, "/v1/profiles/bob");
      }).compose(stale -> {
        assertEquals("STALE", stale.getHeader("X-Cache"), "stale copy served while its refresh waits for budget");
        return h.get(g, "/v1/profiles/alice");
      }).compose(miss -> {
        assertEquals(200, miss.statusCode(), "a reader with nothing cached still gets a permit");
        assertEquals("MISS", miss.getHeader("X-Cache"));
        return g.budget().acquire(Lane.REFRESH).map(x -> false).otherwise(err -> {
          assertTrue(err instanceof UpstreamException);
          assertEquals(UpstreamException.Kind.BUDGET_EXHAUSTED, ((UpstreamException) err).kind());
          assertTrue(((UpstreamException) err).retryAfterMs() > 0);
          return true;
        });
      }))
      .compose(refreshDenied -> {
        assertTrue(refreshDenied, "refresh lane stops at its ceiling (7 of 10) and leaves the rest to readers");
        return h.sandboxStats();
      })
      .onComplete(ctx.succeeding(stats -> ctx.verify(() -> {
        JsonObject byPath = stats.getJsonObject("by_path");
        assertEquals(1, byPath.getInteger("/profiles/bob"), "no background refresh reached the upstream");
        assertEquals(1, byPath.getInteger("/profiles/alice"));
        ctx.completeNow();
      })));
  }

  @Test
  void upstream429StopsEveryInstanceUntilRetryAfter(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject cfg = budget(90, 60_000);
    h.start()
      .compose(v -> Future.all(h.gateway(cfg), h.gateway(cfg)))
      .compose(all -> {
        Gateway a = all.resultAt(0);
        Gateway b = all.resultAt(1);
        long start = System.currentTimeMillis();
        return h.fault(new JsonObject().put("mode", "ratelimit").put("retry_after_s", 2))
          .compose(v -> h.get(a, "/v1/profiles/demo"))
          .compose(limited -> {
            assertEquals(503, limited.statusCode());
            return h.fault(new JsonObject().put("mode", "ok"));
          })
          .compose(v -> h.get(b, "/v1/profiles/alice"))
          .compose(blocked -> {
            assertEquals(503, blocked.statusCode(), "instance B honours A's back-off");
            long retryAfter = Long.parseLong(blocked.getHeader("Retry-After"));
            assertTrue(retryAfter >= 1 && retryAfter <= 2, "Retry-After is what is left of the back-off: " + retryAfter);
            return h.sandboxStats();
          })
          .compose(stats -> {
            assertEquals(1, stats.getInteger("requests"), "nobody called upstream during the back-off");
            return Eventually.until(vertx, () -> h.get(b, "/v1/profiles/alice").map(r -> r.statusCode() == 200), 5_000);
          })
          .map(v -> {
            assertTrue(System.currentTimeMillis() - start >= 1_900, "calls resumed only after Retry-After");
            return null;
          });
      })
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void degradesToTheLocalShareWhenRedisStopsAndReturnsWhenItIsBack(Vertx vertx, VertxTestContext ctx) throws Exception {
    ownRedis = TestRedis.dedicated();
    h = new Harness(vertx);
    JsonObject cfg = budget(12, 2_000);
    // A cut-off instance grants locally a window plus the longest request after the log began reserving its share.
    cfg.getJsonObject("linktree").put("profileTimeoutMs", 500);
    h.start(ownRedis.url(), referee(12, 2_000))
      .compose(v -> Future.all(h.gateway(cfg), h.gateway(cfg), h.gateway(cfg)))
      .compose(all -> {
        List<Gateway> gs = List.of(all.resultAt(0), all.resultAt(1), all.resultAt(2));
        // Wait until all three instances are in the roster, each has heard so from a heartbeat, and the roster records a
        // third of the budget for each (each will then take that on its own; before, a share is what the others leave).
        return Eventually.until(vertx, () -> h.redis(Request.cmd(Command.ZCARD).arg(RedisKeys.budgetInstances("linktree")))
          .compose(n -> h.redis(Request.cmd(Command.HGETALL).arg(RedisKeys.budgetPart("linktree", "details"))).map(details -> {
            int thirds = 0;
            for (String field : details.getKeys()) {
              thirds += field.endsWith(":s") && details.get(field).toInteger() == 4 ? 1 : 0;
            }
            return n.toInteger() == 3 && thirds == 3
              && gs.stream().allMatch(g -> g.budget().isRegistered() && g.budget().liveInstances() == 3);
          })), 10_000, "three instances in the roster, each knowing it and holding its third")
          .compose(t -> vertx.executeBlocking(() -> {
            ownRedis.stop();
            return null;
          }))
          // Waves until the local budgets grant (the scenario's clock: each wave is load), then a window more of them.
          .compose(v -> burstUntil(gs, 0, 40, () -> h.sandboxStats().map(stats -> stats.getInteger("requests") > 0)))
          .compose(v -> burst(gs, 100, 104)).map(v -> {
          gs.forEach(g -> assertTrue(g.budget().isDegraded(), "falls back to the local limiter"));
          return gs;
        });
      })
      .compose(gs -> h.sandboxStats().map(stats -> {
        assertEquals(0, stats.getInteger("rate_limited"), "still within the budget in every window: " + stats);
        int calls = stats.getInteger("requests");
        assertTrue(calls >= 6 && calls <= 36, "never unlimited: " + calls);
        return gs;
      }))
      .compose(gs -> vertx.executeBlocking(() -> {
        ownRedis.restart();
        return null;
      }).compose(v -> Eventually.until(vertx, () -> Future.succeededFuture(gs.stream().noneMatch(g -> g.budget().isDegraded())), 10_000)))
      .onComplete(ctx.succeedingThenComplete());
  }

  /** Rounds as {@link #burst} until {@code done} holds, at most {@code waves} of them. */
  private Future<Void> burstUntil(List<Gateway> gs, int wave, int waves, java.util.function.Supplier<Future<Boolean>> done) {
    if (wave == waves) {
      return Future.failedFuture(new AssertionError("not done after " + waves + " rounds"));
    }
    return burst(gs, wave, wave + 1).compose(v -> done.get())
      .compose(d -> d ? Future.succeededFuture() : burstUntil(gs, wave + 1, waves, done));
  }

  /** Rounds {@code wave} to {@code waves - 1}, 0.5 s apart, of 30 distinct uncached profiles spread over the instances. */
  private Future<Void> burst(List<Gateway> gs, int wave, int waves) {
    if (wave == waves) {
      return Future.succeededFuture();
    }
    List<Future<HttpResponse<Buffer>>> reads = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      reads.add(h.get(gs.get(i % gs.size()), "/v1/profiles/w" + wave + "x" + i));
    }
    return Future.all(reads).map(cf -> {
      for (int i = 0; i < 30; i++) {
        int status = cf.<HttpResponse<Buffer>>resultAt(i).statusCode();
        assertTrue(status == 404 || status == 503, "status " + status);
      }
      return null;
    }).compose(v -> h.vertx.timer(500)).compose(t -> burst(gs, wave + 1, waves)); // rounds across windows: load shape, not a wait
  }

  @Test
  void reloadsTheLimiterScriptAfterScriptFlush(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    Redis admin = Redis.createClient(vertx, TestRedis.url());
    String sha = dev.biogate.redis.LuaScript.load("rate_limit").sha();
    h.start()
      .compose(v -> h.gateway(budget(90, 60_000)))
      .compose(g -> g.budget().acquire(Lane.FOREGROUND)
        .compose(v -> admin.send(Request.cmd(Command.SCRIPT).arg("FLUSH")))
        .compose(v -> admin.send(Request.cmd(Command.SCRIPT).arg("EXISTS").arg(sha)))
        .compose(exists -> {
          assertEquals(0, exists.get(0).toInteger(), "flushed");
          return g.budget().acquire(Lane.FOREGROUND);
        })
        .compose(v -> admin.send(Request.cmd(Command.SCRIPT).arg("EXISTS").arg(sha)))
        .map(exists -> {
          assertEquals(1, exists.get(0).toInteger(), "reloaded on NOSCRIPT");
          assertFalse(g.budget().isDegraded(), "a flushed script is not an outage");
          return null;
        }))
      .eventually(() -> {
        admin.close();
        return Future.succeededFuture();
      })
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void inboundLimitAnswers429WithRateLimitHeadersPerClient(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    JsonObject cfg = new JsonObject().put("http", new JsonObject().put("inbound", new JsonObject()
      .put("ratePerSec", 0.5).put("burst", 5).put("exemptLoopback", false).put("trustedProxies", new JsonArray().add("127.0.0.1"))));
    h.start()
      .compose(v -> h.gateway(cfg))
      .compose(g -> {
        Future<List<HttpResponse<Buffer>>> chain = Future.succeededFuture(new ArrayList<>());
        for (int i = 0; i < 5; i++) {
          chain = chain.compose(acc -> forwardedFor(g, "203.0.113.7").map(r -> {
            acc.add(r);
            return acc;
          }));
        }
        return chain.compose(first5 -> {
          // Every answer of a limited route states the policy and what is left (IETF RateLimit fields draft).
          for (int i = 0; i < 5; i++) {
            HttpResponse<Buffer> r = first5.get(i);
            assertEquals(200, r.statusCode());
            assertEquals("\"default\";q=5;w=10", r.getHeader("RateLimit-Policy"), "burst 5, refilled in 10 s");
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"default\";r=(\\d+);t=(\\d+)").matcher(r.getHeader("RateLimit"));
            assertTrue(m.matches(), r.getHeader("RateLimit"));
            int left = Integer.parseInt(m.group(1));
            // At most burst - 1 after taking one; exactly 4 - i unless the 0.5/s refill added a token meanwhile.
            assertTrue(left <= 4 && left >= 4 - i, "remaining after request " + (i + 1) + ": " + left);
            assertTrue(Integer.parseInt(m.group(2)) >= 1 && Integer.parseInt(m.group(2)) <= 10, r.getHeader("RateLimit"));
          }
          return forwardedFor(g, "203.0.113.7");
        }).compose(sixth -> {
          assertEquals(429, sixth.statusCode());
          assertEquals("too_many_requests", sixth.bodyAsJsonObject().getString("error"));
          assertEquals("\"default\";q=5;w=10", sixth.getHeader("RateLimit-Policy"));
          assertTrue(sixth.getHeader("RateLimit").startsWith("\"default\";r=0;t="), sixth.getHeader("RateLimit"));
          long retry = Long.parseLong(sixth.getHeader("Retry-After"));
          assertTrue(retry >= 1 && retry <= 2, "one token every 2 s: " + retry);
          // A different client behind the same trusted proxy has its own bucket; spoofed left-most hops don't count.
          return forwardedFor(g, "203.0.113.7, 198.51.100.9");
        }).map(other -> {
          assertEquals(200, other.statusCode());
          return null;
        });
      })
      .onComplete(ctx.succeedingThenComplete());
  }

  private Future<HttpResponse<Buffer>> forwardedFor(Gateway g, String xff) {
    return h.http.get(g.port(), "127.0.0.1", "/v1/profiles/demo").putHeader("X-Forwarded-For", xff).send();
  }
}
