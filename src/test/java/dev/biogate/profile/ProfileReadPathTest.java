package dev.biogate.profile;

import dev.biogate.Gateway;
import dev.biogate.support.HarnessTest;
import dev.biogate.support.ManualClock;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cached read path end to end: real Redis, the sandbox as Linktree, real HTTP. */
class ProfileReadPathTest extends HarnessTest {

  private static final JsonObject SHORT_WINDOWS = new JsonObject()
    .put("cache", new JsonObject().put("freshTtlMs", 10_000).put("staleWhileRevalidateMs", 60_000)
      .put("staleIfErrorMs", 600_000).put("negativeTtlMs", 5_000));

  private final ManualClock clock = new ManualClock();

  /**
   * A reader holding a last good copy past stale-while-revalidate waits at most {@code cache.staleIfSlowMs} (1 s) for a
   * slow upstream, then gets that copy; the fetch goes on and its copy is served next. Found in a Cluster drill: with
   * the upstream answering in 12 s, such a reader waited 30 s (three attempts timing out) for the same copy.
   */
  @Test
  void aSlowUpstreamDoesNotHoldBackTheLastGoodCopy(VertxTestContext ctx) {
    h.gateway(SHORT_WINDOWS, clock).compose(g -> h.get(g, "/v1/profiles/demo").compose(first -> {
      assertEquals("MISS", first.getHeader("X-Cache"));
      clock.advance(10_000 + 60_000 + 1_000); // past stale-while-revalidate: served only when the upstream fails
      return h.fault(new JsonObject().put("mode", "slow").put("latency_ms", 2_000));
    }).compose(v -> h.get(g, "/v1/profiles/demo")).compose(slow -> {
      assertEquals(200, slow.statusCode());
      assertEquals("STALE", slow.getHeader("X-Cache"), "the held copy, not the slow upstream's answer");
      assertTrue(slow.getHeader("Cache-Status").contains("stale-if-error"), slow.getHeader("Cache-Status"));
      assertEquals("71", slow.getHeader("Age"));
      // The fetch went on under the same single flight and published its copy.
      return h.eventually(() -> h.get(g, "/v1/profiles/demo").map(r -> "HIT".equals(r.getHeader("X-Cache"))
        && "0".equals(r.getHeader("Age"))), 20_000);
    }))
      .eventually(() -> h.fault(new JsonObject().put("mode", "ok")))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void movesFromMissToHitToStaleAndRefreshesOnceInTheBackground(VertxTestContext ctx) {
    h.gateway(SHORT_WINDOWS, clock).compose(g -> h.get(g, "/v1/profiles/demo").compose(first -> {
      assertEquals(200, first.statusCode());
      assertEquals("MISS", first.getHeader("X-Cache"));
      assertTrue(first.getHeader("Cache-Status").contains("fwd=uri-miss"));
      assertEquals(25, first.bodyAsJsonObject().getJsonArray("links").size(), "all link pages assembled");
      return h.get(g, "/v1/profiles/demo");
    }).compose(second -> {
      assertEquals("HIT", second.getHeader("X-Cache"));
      assertEquals("biogate; hit", second.getHeader("Cache-Status"));
      clock.advance(11_000);
      return h.get(g, "/v1/profiles/demo");
    }).compose(stale -> {
      assertEquals(200, stale.statusCode());
      assertEquals("STALE", stale.getHeader("X-Cache"));
      assertEquals("11", stale.getHeader("Age"));
      // Reads during the refresh stay STALE and start no second refresh; then the new copy is served fresh.
      return h.eventually(() -> h.get(g, "/v1/profiles/demo").map(r -> "HIT".equals(r.getHeader("X-Cache"))
        && "0".equals(r.getHeader("Age"))), 5_000);
    })).compose(v -> h.upstreamCalls("/profiles/demo")).onComplete(ctx.succeeding(n -> ctx.verify(() -> {
      assertEquals(2, n, "one initial fetch and exactly one background refresh");
      ctx.completeNow();
    })));
  }

  /**
   * "No Redis round trip on a cache hit; the known-name marker is read on the miss path only": every command Redis
   * runs is watched with {@code MONITOR}. A hundred hits on a cached profile send nothing that names it; a miss for a
   * name never seen reads its marker (which shows the watch sees what the gateway sends).
   */
  @Test
  void aCacheHitSendsRedisNothingAndOnlyAMissReadsTheKnownNameMarker(VertxTestContext ctx) {
    StringBuffer seen = new StringBuffer();
    java.net.URI redisUri = java.net.URI.create(dev.biogate.support.TestRedis.url());
    // Kept to the end: Vert.x closes a client it finds unreachable after a collection, its connections included.
    io.vertx.core.net.NetClient monitorClient = h.vertx.createNetClient();
    h.gateway(SHORT_WINDOWS, clock).compose(g -> h.get(g, "/v1/profiles/demo")
      .compose(first -> h.eventually(() -> h.get(g, "/v1/profiles/demo").map(r -> "HIT".equals(r.getHeader("X-Cache"))), 5_000))
      .compose(v -> monitorClient.connect(redisUri.getPort(), redisUri.getHost()))
      .compose(monitor -> {
        monitor.handler(b -> seen.append(b.toString()));
        return monitor.write("*1\r\n$7\r\nMONITOR\r\n")
          .compose(v -> h.eventually(() -> Future.succeededFuture(seen.indexOf("+OK") >= 0), 5_000))
          .compose(v -> {
            List<Future<HttpResponse<Buffer>>> hits = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
              hits.add(h.get(g, "/v1/profiles/demo"));
            }
            return Future.all(hits).map(all -> {
              for (Future<HttpResponse<Buffer>> f : hits) {
                assertEquals("HIT", f.result().getHeader("X-Cache"));
              }
              return seen.toString();
            });
          })
          .compose(duringHits -> h.get(g, "/v1/profiles/never-seen-name").compose(miss -> h.eventually(() ->
              Future.succeededFuture(seen.indexOf("bg:known:{never-seen-name}") >= 0), 5_000))
            .map(v -> duringHits))
          .eventually(() -> monitor.close().eventually(monitorClient::close));
      }))
      .onComplete(ctx.succeeding(duringHits -> ctx.verify(() -> {
        assertTrue(!duringHits.contains("demo"), "a cache hit sent Redis a command naming the profile: " + duringHits);
        assertTrue(!duringHits.contains("bg:known:"), "a cache hit read a known-name marker");
        ctx.completeNow();
      })));
  }

  @Test
  void aCachedCopyKeepsOnlyItsBytesNotADecodedTreeAfterItsLinksAreIndexed(VertxTestContext ctx) {
    // The L2 write indexes the profile's links; that must not leave the decoded JSON tree on the L1 copy,
    // which would cost several kilobytes of heap per cached profile (measured: ~6 KiB at 8 links).
    h.gateway(SHORT_WINDOWS, clock).compose(g -> h.get(g, "/v1/profiles/demo").compose(first -> {
      assertEquals("MISS", first.getHeader("X-Cache"));
      return h.eventually(() -> g.profiles().ownerOfLink("lnk_demo_25").map("demo"::equals), 5_000);
    }).map(v -> g.profiles().cache().get("demo"))).onComplete(ctx.succeeding(copy -> ctx.verify(() -> {
      assertNotNull(copy);
      assertEquals(25, copy.decode().getJsonArray("links").size());
      ctx.completeNow();
    })));
  }

  /**
   * The links the links route decodes and keeps stay within their half of {@code cache.derivedMaxBytes}: an attack pass found the
   * decoded tree kept with each copy for its life, uncounted by any bound: one {@code /links?limit=1} read of each of
   * 20,000 cached 8-link profiles took the live heap from 41 MB to 153 MB of 160, and 1,600 more ran the process out
   * of memory. Here the bound holds the links of two copies; the links of five are read, every page still right.
   */
  @Test
  void theLinksTheLinksRouteKeepsStayWithinTheirBound(VertxTestContext ctx) {
    List<String> names = List.of("tree0", "tree1", "tree2", "tree3", "tree4");
    JsonArray links = new JsonArray();
    for (int i = 0; i < 40; i++) {
      links.add(new JsonObject().put("id", "lnk_tree_" + i).put("title", "Link number " + i)
        .put("url", "https://example.com/tree/" + i).put("position", i));
    }
    JsonObject known = new JsonObject().put("linktree", new JsonObject().put("firstSight",
      new JsonObject().put("known", new JsonArray(names))));
    Future<Void> put = Future.succeededFuture();
    for (String n : names) {
      put = put.compose(v -> h.putProfile(n, new JsonObject().put("bio", "bio of " + n).put("links", links.copy())));
    }
    long[] bound = {0};
    put.compose(v -> h.gateway(known))
      .compose(probe -> h.get(probe, "/v1/profiles/tree0").map(r -> probe.profiles().cache().get("tree0").json().length()))
      .compose(jsonBytes -> {
        bound[0] = 2L * (64 + 4L * jsonBytes) + 100;
        // Half of cache.derivedMaxBytes is the links route's.
        return h.gateway(known.copy().put("cache", new JsonObject().put("derivedMaxBytes", 2 * bound[0])));
      })
      .compose(g -> {
        Future<Void> pages = Future.succeededFuture();
        for (String n : names) {
          pages = pages.compose(x -> h.get(g, "/v1/profiles/" + n + "/links?limit=2").map(r -> {
            assertEquals(200, r.statusCode(), r.bodyAsString());
            assertEquals("lnk_tree_1", r.bodyAsJsonObject().getJsonArray("links").getJsonObject(1).getString("id"), n);
            return null;
          }));
        }
        return pages.map(v -> g.links().treeBytesHeld());
      })
      .onComplete(ctx.succeeding(held -> ctx.verify(() -> {
        assertTrue(held > 0, "the links of a copy paged are kept");
        assertTrue(held <= bound[0], held + " bytes of decoded links held, the bound is " + bound[0]);
        ctx.completeNow();
      })));
  }

  @Test
  void answers304WhenIfNoneMatchCarriesTheCurrentEtag(VertxTestContext ctx) {
    h.gateway(SHORT_WINDOWS, clock).compose(g -> h.get(g, "/v1/profiles/alice").compose(first -> {
      String etag = first.getHeader("ETag");
      assertNotNull(etag);
      assertTrue(etag.startsWith("\"") && etag.endsWith("\""), "strong quoted etag");
      return Future.all(
        h.http.get(g.port(), "127.0.0.1", "/v1/profiles/alice").putHeader("If-None-Match", etag).send(),
        h.http.get(g.port(), "127.0.0.1", "/v1/profiles/alice").putHeader("If-None-Match", "\"other\", W/" + etag).send(),
        h.http.get(g.port(), "127.0.0.1", "/v1/profiles/alice").putHeader("If-None-Match", "\"other\"").send(),
        // Repeated header lines are one comma-joined list (RFC 9110 §5.3): only the first line used to be read.
        h.http.get(g.port(), "127.0.0.1", "/v1/profiles/alice").putHeader("If-None-Match", List.of("\"other\"", etag)).send());
    })).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      assertEquals(304, all.<HttpResponse<Buffer>>resultAt(3).statusCode(), "the current tag on a second header line");
      HttpResponse<Buffer> exact = all.resultAt(0);
      HttpResponse<Buffer> listed = all.resultAt(1);
      HttpResponse<Buffer> other = all.resultAt(2);
      assertEquals(304, exact.statusCode());
      assertNull(exact.body(), "304 has no body");
      assertNotNull(exact.getHeader("ETag"));
      assertEquals(304, listed.statusCode(), "weak comparison over a list");
      assertEquals(200, other.statusCode());
      ctx.completeNow();
    })));
  }

  @Test
  void servesGzipBytesWhenAcceptedAndIdentityOtherwise(VertxTestContext ctx) {
    h.gateway(SHORT_WINDOWS, clock).compose(g -> h.get(g, "/v1/profiles/demo").compose(plain ->
      h.http.get(g.port(), "127.0.0.1", "/v1/profiles/demo").putHeader("Accept-Encoding", "br, gzip;q=0.8").send()
        .compose(gz -> h.http.get(g.port(), "127.0.0.1", "/v1/profiles/demo").putHeader("Accept-Encoding", "gzip;q=0").send()
          .map(refused -> {
            assertEquals("gzip", gz.getHeader("Content-Encoding"));
            assertEquals("Accept-Encoding", gz.getHeader("Vary"));
            assertTrue(gz.body().length() < plain.body().length());
            assertEquals(plain.bodyAsString(), gunzip(gz.body()));
            assertNull(refused.getHeader("Content-Encoding"), "q=0 refuses gzip");
            return null;
          }))))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void cachesUnknownProfilesBrieflyAs404(VertxTestContext ctx) {
    h.gateway(SHORT_WINDOWS, clock).compose(g -> h.get(g, "/v1/profiles/nobody").compose(first -> {
      assertEquals(404, first.statusCode());
      assertEquals("profile_not_found", first.bodyAsJsonObject().getString("error"));
      return h.get(g, "/v1/profiles/nobody");
    }).compose(second -> {
      assertEquals(404, second.statusCode());
      assertEquals("HIT", second.getHeader("X-Cache"));
      return h.upstreamCalls("/profiles/nobody");
    }).compose(calls -> {
      assertEquals(1, calls, "second 404 answered from the negative cache");
      clock.advance(6_000);
      return h.get(g, "/v1/profiles/nobody");
    }).compose(afterTtl -> {
      assertEquals(404, afterTtl.statusCode());
      return h.upstreamCalls("/profiles/nobody");
    })).onComplete(ctx.succeeding(calls -> ctx.verify(() -> {
      assertEquals(2, calls, "negative entry expired after its TTL");
      ctx.completeNow();
    })));
  }

  @Test
  void coalesces200ConcurrentFirstReadsIntoOneUpstreamFetch(VertxTestContext ctx) {
    h.gateway(SHORT_WINDOWS, clock).compose(g -> {
      List<Future<HttpResponse<Buffer>>> reads = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        reads.add(h.get(g, "/v1/profiles/demo"));
      }
      return Future.all(reads).map(all -> {
        for (int i = 0; i < 200; i++) {
          HttpResponse<Buffer> r = all.resultAt(i);
          assertEquals(200, r.statusCode());
          assertEquals(25, r.bodyAsJsonObject().getJsonArray("links").size());
        }
        return null;
      });
    }).compose(v -> h.sandboxStats()).onComplete(ctx.succeeding(stats -> ctx.verify(() -> {
      JsonObject byPath = stats.getJsonObject("by_path");
      assertEquals(1, byPath.getInteger("/profiles/demo"), "one profile fetch");
      assertEquals(2, byPath.getInteger("/profiles/demo/links"), "one call per further link page (25 links, pages of 10)");
      ctx.completeNow();
    })));
  }

  @Test
  void secondInstanceServesItsFirstReadFromTheSharedCopy(VertxTestContext ctx) {
    h.gateway(SHORT_WINDOWS, clock).compose(a -> h.get(a, "/v1/profiles/bob"))
      .compose(warm -> h.gateway(SHORT_WINDOWS, clock).compose(b -> h.get(b, "/v1/profiles/bob")).map(fromB -> {
        assertEquals(200, fromB.statusCode());
        assertEquals("HIT", fromB.getHeader("X-Cache"));
        assertEquals("biogate; hit; detail=shared", fromB.getHeader("Cache-Status"));
        assertEquals(warm.getHeader("ETag"), fromB.getHeader("ETag"));
        assertEquals(warm.bodyAsString(), fromB.bodyAsString());
        return null;
      }))
      .compose(v -> h.upstreamCalls("/profiles/bob"))
      .onComplete(ctx.succeeding(n -> ctx.verify(() -> {
        assertEquals(1, n, "instance B cost no upstream call");
        ctx.completeNow();
      })));
  }

  /**
   * An instance with nothing in L1 (started, or scaled out, after the shared copy went stale) serves the shared copy
   * at once as stale and refreshes it in the background, as it would its own stale copy. It used to make every such
   * first read wait for a foreground upstream fetch, spending the budget on copies it could have served.
   */
  @Test
  void secondInstanceServesAStaleSharedCopyAtOnceAndRefreshesItInTheBackground(VertxTestContext ctx) {
    h.gateway(SHORT_WINDOWS, clock).compose(a -> h.get(a, "/v1/profiles/bob"))
      .compose(warm -> {
        clock.advance(11_000);
        return h.gateway(SHORT_WINDOWS, clock).compose(b -> h.get(b, "/v1/profiles/bob").compose(fromB -> {
          assertEquals(200, fromB.statusCode());
          assertEquals("STALE", fromB.getHeader("X-Cache"));
          assertEquals("biogate; hit; detail=stale-while-revalidate", fromB.getHeader("Cache-Status"));
          assertEquals("11", fromB.getHeader("Age"));
          assertEquals(warm.bodyAsString(), fromB.bodyAsString());
          return h.eventually(() -> h.get(b, "/v1/profiles/bob").map(r -> "HIT".equals(r.getHeader("X-Cache"))
            && "0".equals(r.getHeader("Age"))), 5_000);
        }));
      })
      .compose(v -> h.upstreamCalls("/profiles/bob"))
      .onComplete(ctx.succeeding(n -> ctx.verify(() -> {
        assertEquals(2, n, "the first fetch and one background refresh");
        ctx.completeNow();
      })));
  }

  @Test
  void breakerOpensAfterFiveFailuresAndStopsUpstreamCalls(VertxTestContext ctx) {
    JsonObject cfg = SHORT_WINDOWS.copy().put("linktree", new JsonObject().put("maxRetries", 0).put("breakerResetMs", 60_000));
    // An operator learns of it from the log: one line when the breaker opens (a newcomer's run found none).
    dev.biogate.support.LogCapture log = dev.biogate.support.LogCapture.of(dev.biogate.upstream.LinktreeClient.class,
      e -> e.getLevel() + " " + e.getFormattedMessage());
    h.fault(new JsonObject().put("mode", "error").put("error_rate", 1.0))
      .compose(v -> h.gateway(cfg, clock))
      .compose(g -> sequentially(g, List.of("u1", "u2", "u3", "u4", "u5")).map(responses -> {
        responses.forEach(r -> assertEquals(503, r.statusCode()));
        assertEquals(CircuitBreakerState.OPEN, g.upstream().breakerState());
        return g;
      }))
      .compose(g -> h.sandboxStats().compose(before -> sequentially(g, List.of("u6", "u7", "demo")).compose(responses -> {
        for (HttpResponse<Buffer> r : responses) {
          assertEquals(503, r.statusCode());
          assertEquals("upstream_unavailable", r.bodyAsJsonObject().getString("error"));
          long retryAfter = Long.parseLong(r.getHeader("Retry-After"));
          assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After within the breaker reset: " + retryAfter);
        }
        return h.sandboxStats().map(after -> {
          assertEquals(5, before.getInteger("requests"));
          assertEquals(before.getInteger("requests"), after.getInteger("requests"), "no upstream call while open");
          return null;
        });
      })))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        log.close();
        assertEquals(List.of("WARN linktree is failing: circuit breaker opened after 5 consecutive failures; misses are"
          + " answered 503 and cached copies served until a probe in 60000 ms"), log.lines());
        ctx.completeNow();
      })));
  }

  /**
   * {@code /health} behind a balancer answers from whichever instance the probe reaches. An instance that has not
   * called the upstream itself said "healthy" while another's breaker was open; it now reports what a peer saw, for
   * the breaker's reset time.
   */
  @Test
  void everyInstanceReportsTheUpstreamDownWhileAnyInstancesBreakerIsOpen(VertxTestContext ctx) {
    JsonObject cfg = SHORT_WINDOWS.copy().put("linktree", new JsonObject().put("maxRetries", 0).put("breakerResetMs", 3_000)
      .put("profileTimeoutMs", 1_000));
    h.fault(new JsonObject().put("mode", "error").put("error_rate", 1.0))
      .compose(v -> h.gateway(cfg)).compose(a -> h.gateway(cfg).compose(b -> h.get(b, "/health")
        .compose(before -> {
          assertEquals("healthy", before.bodyAsJsonObject().getJsonObject("services").getJsonObject("linktree").getString("status"),
            "nothing seen yet: " + before.bodyAsString());
          return sequentially(a, List.of("u1", "u2", "u3", "u4", "u5"));
        })
        .compose(failed -> {
          assertEquals(CircuitBreakerState.OPEN, a.upstream().breakerState());
          assertEquals(CircuitBreakerState.CLOSED, b.upstream().breakerState());
          return h.eventually(() -> h.get(b, "/health").map(r -> {
            JsonObject lt = r.bodyAsJsonObject().getJsonObject("services").getJsonObject("linktree");
            return "down".equals(lt.getString("status")) && lt.getBoolean("peerBreakerOpen", false)
              && "closed".equals(lt.getString("breaker"));
          }), 5_000);
        })
        // Half-open, a probe may still reopen the breaker: the report holds for a probe's length after the reset (a
        // drill saw a peer report "healthy" for 1.5 s mid-outage, while the other's breaker was half-open).
        .compose(v -> h.eventually(() -> Future.succeededFuture(a.upstream().breakerState() == CircuitBreakerState.HALF_OPEN), 5_000))
        .compose(v -> h.vertx.timer(300))
        .compose(v -> h.get(b, "/health"))
        .compose(halfOpen -> {
          assertEquals("down", halfOpen.bodyAsJsonObject().getJsonObject("services").getJsonObject("linktree").getString("status"),
            halfOpen.bodyAsString());
          // The report lasts the breaker's reset time and a probe's length (3 s + 1 s here), not forever: once the
          // instance that saw the outage is gone (its own probes, failing, would renew the report), it ends.
          return h.close(a).compose(closed -> h.eventually(() -> h.get(b, "/health").map(r -> "healthy".equals(r.bodyAsJsonObject()
            .getJsonObject("services").getJsonObject("linktree").getString("status"))), 10_000));
        })))
      .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * The peer's report ends when the breaker that opened closes, not when its mark would expire: the mark lives the
   * reset time plus a probe's length (20 s here), and the closing breaker clears it.
   */
  @Test
  void aPeersReportEndsWhenItsBreakerCloses(VertxTestContext ctx) {
    JsonObject cfg = SHORT_WINDOWS.copy().put("linktree", new JsonObject().put("maxRetries", 0).put("breakerResetMs", 1_000)
      .put("profileTimeoutMs", 20_000));
    h.fault(new JsonObject().put("mode", "error").put("error_rate", 1.0))
      .compose(v -> h.gateway(cfg)).compose(a -> h.gateway(cfg).compose(b -> sequentially(a, List.of("u1", "u2", "u3", "u4", "u5"))
        .compose(failed -> h.eventually(() -> h.get(b, "/health").map(r -> r.bodyAsJsonObject().getJsonObject("services")
          .getJsonObject("linktree").getBoolean("peerBreakerOpen", false)), 5_000))
        .compose(v -> h.fault(new JsonObject().put("mode", "ok")))
        // a's half-open probe succeeds and its breaker closes.
        .compose(v -> h.eventually(() -> h.get(a, "/v1/profiles/demo").map(r -> r.statusCode() == 200
          && a.upstream().breakerState() == CircuitBreakerState.CLOSED), 10_000))
        .compose(v -> h.eventually(() -> h.get(b, "/health").map(r -> "healthy".equals(r.bodyAsJsonObject()
          .getJsonObject("services").getJsonObject("linktree").getString("status"))), 3_000))))
      .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * A permit is spent only on a call that is made. The permit used to be taken before the breaker was asked, so every
   * miss during an outage spent one without calling (a test saw the never-seen names' share, 18, used up in seconds
   * of polling), and once the upstream was back its half-open probe found no permit left. While the breaker is open
   * no permit is taken, and no never-seen name charges the client's miss quota; half-open, only the one probe takes
   * a permit.
   */
  @Test
  void anOpenBreakerSpendsNoPermitAndAHalfOpenOneOnlyItsProbe(VertxTestContext ctx) {
    // The per-client miss quota on for this loopback client too: 5 never-seen names at once (u1..u5), one a second.
    JsonObject cfg = SHORT_WINDOWS.copy()
      .put("http", new JsonObject().put("inbound", new JsonObject().put("exemptLoopback", false).put("ratePerSec", 10_000)
        .put("burst", 10_000)))
      .put("linktree", new JsonObject().put("maxRetries", 0).put("breakerResetMs", 2_000)
        .put("firstSight", new JsonObject().put("quotaBurst", 5).put("quotaPerMin", 60)));
    Request permits = Request.cmd(Command.ZCARD).arg(dev.biogate.redis.RedisKeys.budgetLog("linktree"));
    h.fault(new JsonObject().put("mode", "error").put("error_rate", 1.0))
      .compose(v -> h.gateway(cfg))
      .compose(g -> sequentially(g, List.of("u1", "u2", "u3", "u4", "u5"))
        .compose(failed -> {
          assertEquals(CircuitBreakerState.OPEN, g.upstream().breakerState());
          return h.redis(permits);
        })
        .compose(afterFive -> {
          List<Future<HttpResponse<Buffer>>> whileOpen = new ArrayList<>();
          for (int i = 0; i < 20; i++) {
            whileOpen.add(h.get(g, "/v1/profiles/open-" + i));
          }
          return Future.all(whileOpen).compose(all -> h.redis(permits)).map(after -> {
            for (Future<HttpResponse<Buffer>> r : whileOpen) {
              // Not 429 miss_quota_exceeded: a miss that makes no call charges the client's quota nothing either.
              assertEquals("upstream_unavailable", r.result().bodyAsJsonObject().getString("error"), r.result().bodyAsString());
            }
            assertEquals(CircuitBreakerState.OPEN, g.upstream().breakerState());
            assertEquals(afterFive.toLong(), after.toLong(), "misses while the breaker is open spent permits");
            return after.toLong();
          });
        })
        .compose(beforeProbe -> h.eventually(() -> Future.succeededFuture(
            g.upstream().breakerState() == CircuitBreakerState.HALF_OPEN), 5_000)
          .compose(v -> {
            List<Future<HttpResponse<Buffer>>> halfOpen = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
              halfOpen.add(h.get(g, "/v1/profiles/half-" + i));
            }
            return Future.all(halfOpen);
          })
          .compose(all -> h.redis(permits)).map(after -> {
            assertEquals(beforeProbe + 1, after.toLong(), "half-open: one probe, one permit");
            return null;
          })))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void servesTheLastGoodCopyWhenTheUpstreamIsDown(VertxTestContext ctx) {
    h.gateway(SHORT_WINDOWS, clock).compose(g -> h.get(g, "/v1/profiles/demo").compose(warm -> {
      clock.advance(120_000); // past stale-while-revalidate: must try the upstream first
      return h.fault(new JsonObject().put("mode", "down")).compose(v -> h.get(g, "/v1/profiles/demo")).map(down -> {
        assertEquals(200, down.statusCode());
        assertEquals("STALE", down.getHeader("X-Cache"));
        assertTrue(down.getHeader("Cache-Status").contains("stale-if-error"));
        assertEquals(warm.bodyAsString(), down.bodyAsString(), "the whole last good copy, never a partial one");
        assertEquals("120", down.getHeader("Age"));
        return null;
      });
    })).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void answers503WithRetryAfterWhenNothingIsCachedAndTheUpstreamIsDown(VertxTestContext ctx) {
    h.fault(new JsonObject().put("mode", "down"))
      .compose(v -> h.gateway(SHORT_WINDOWS, clock))
      .compose(g -> h.get(g, "/v1/profiles/demo"))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals(503, r.statusCode());
        assertEquals("application/json", r.getHeader("Content-Type"));
        assertEquals("upstream_unavailable", r.bodyAsJsonObject().getString("error"));
        assertNotNull(r.bodyAsJsonObject().getString("message"));
        assertTrue(Long.parseLong(r.getHeader("Retry-After")) >= 1);
        ctx.completeNow();
      })));
  }

  /**
   * A gateway (breaker reset 300 ms, no retries) whose breaker five failing misses opened; the upstream then answers
   * again.
   */
  private Future<Gateway> openedThenRecovered() {
    JsonObject cfg = SHORT_WINDOWS.copy().put("linktree", new JsonObject().put("maxRetries", 0).put("breakerResetMs", 300));
    return h.fault(new JsonObject().put("mode", "error").put("error_rate", 1.0))
      .compose(v -> h.gateway(cfg, clock))
      .compose(g -> sequentially(g, List.of("u1", "u2", "u3", "u4", "u5")).map(r -> {
        assertEquals(CircuitBreakerState.OPEN, g.upstream().breakerState());
        return g;
      }))
      .compose(g -> h.fault(new JsonObject().put("mode", "ok")).map(g));
  }

  @Test
  void halfOpenProbeClosesTheBreakerWhenTheUpstreamRecovers(VertxTestContext ctx) {
    openedThenRecovered()
      .compose(g -> h.eventually(() -> Future.succeededFuture(g.upstream().breakerState() == CircuitBreakerState.HALF_OPEN), 5_000)
        .compose(v -> h.get(g, "/v1/profiles/demo"))
        .map(probe -> {
          assertEquals(200, probe.statusCode());
          assertEquals(CircuitBreakerState.CLOSED, g.upstream().breakerState());
          return null;
        }))
      .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * An instance nobody reads from still learns that the upstream is back. Found in a drill: after an outage the
   * breaker went half-open and stayed so, {@code /health} saying "degraded", for minutes, until a read made the probe.
   * Half-open with no call under way for a second, the client now probes the upstream's {@code /health} itself, under
   * the budget like any call.
   */
  @Test
  void anIdleHalfOpenBreakerProbesByItselfAndCloses(VertxTestContext ctx) {
    Request permits = Request.cmd(Command.ZCARD).arg(dev.biogate.redis.RedisKeys.budgetLog("linktree"));
    openedThenRecovered()
      .compose(g -> h.eventually(() -> h.get(g, "/health").map(r -> {
        JsonObject lt = r.bodyAsJsonObject().getJsonObject("services").getJsonObject("linktree");
        return "healthy".equals(lt.getString("status")) && "closed".equals(lt.getString("breaker"));
      }), 10_000))
      .compose(v -> Future.all(h.sandboxStats(), h.redis(permits)))
      .onComplete(ctx.succeeding(both -> ctx.verify(() -> {
        JsonObject stats = both.resultAt(0);
        assertTrue(stats.getJsonObject("by_path").getInteger("/health", 0) >= 1, "the probe asked /health: " + stats);
        assertEquals(stats.getInteger("requests").longValue(), ((io.vertx.redis.client.Response) both.resultAt(1)).toLong(),
          "every upstream call, the probe included, took a permit: " + stats);
        ctx.completeNow();
      })));
  }

  @Test
  void upstream429HonoursRetryAfterWithoutTrippingTheBreaker(VertxTestContext ctx) {
    JsonObject cfg = SHORT_WINDOWS.copy().put("linktree", new JsonObject().put("maxRetries", 2));
    h.fault(new JsonObject().put("mode", "ratelimit").put("retry_after_s", 7))
      .compose(v -> h.gateway(cfg, clock))
      .compose(g -> sequentially(g, List.of("demo", "alice", "bob", "u1", "u2", "u3")).compose(responses -> {
        for (HttpResponse<Buffer> r : responses) {
          assertEquals(503, r.statusCode());
          long retryAfter = Long.parseLong(r.getHeader("Retry-After"));
          assertTrue(retryAfter >= 6 && retryAfter <= 7, "Retry-After follows the upstream's: " + retryAfter);
        }
        assertEquals(CircuitBreakerState.CLOSED, g.upstream().breakerState(), "429 is not a breaker failure");
        return h.sandboxStats();
      }))
      .onComplete(ctx.succeeding(stats -> ctx.verify(() -> {
        assertEquals(1, stats.getInteger("requests"), "after the 429 nobody calls until Retry-After passes, retries included");
        ctx.completeNow();
      })));
  }

  /**
   * The links of an unknown profile are the same remembered 404 as the profile read, and say so to caches the same
   * way. Found with raw sockets: that 404 carried no Cache-Control at all, so a cache could keep it as long as it chose.
   */
  @Test
  void theLinksOfAnUnknownProfileAreCachedLikeItsProfileRead(VertxTestContext ctx) {
    h.gateway(SHORT_WINDOWS, clock).compose(g -> h.get(g, "/v1/profiles/nobody/links")
      .compose(links -> h.get(g, "/v1/profiles/nobody").map(profile -> List.of(links, profile))))
      .onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
        HttpResponse<Buffer> links = rs.get(0);
        HttpResponse<Buffer> profile = rs.get(1);
        assertEquals(404, links.statusCode());
        assertEquals("profile_not_found", links.bodyAsJsonObject().getString("error"));
        assertEquals("public, max-age=5", profile.getHeader("Cache-Control"), "the profile read's negative TTL");
        assertEquals(profile.getHeader("Cache-Control"), links.getHeader("Cache-Control"));
        ctx.completeNow();
      })));
  }

  @Test
  void pagesLinksWithOpaqueCursors(VertxTestContext ctx) {
    h.gateway(SHORT_WINDOWS, clock).compose(g -> collectPages(g, "/v1/profiles/demo/links?limit=10", new JsonArray(), 0)
      .compose(all -> {
        assertEquals(25, all.size());
        for (int i = 0; i < 25; i++) {
          assertEquals(i, all.getJsonObject(i).getInteger("position"));
        }
        return Future.all(List.of(h.get(g, "/v1/profiles/demo/links?cursor=bm9wZQ"), h.get(g, "/v1/profiles/demo/links?limit=0"),
          h.get(g, "/v1/profiles/nobody/links"), h.get(g, "/v1/profiles/demo/links"), h.get(g, "/v1/profiles/demo/links?limit=100"),
          h.get(g, "/v1/profiles/demo/links?limit=101")));
      })).onComplete(ctx.succeeding(bad -> ctx.verify(() -> {
        HttpResponse<Buffer> byDefault = bad.resultAt(3);
        assertEquals(20, byDefault.bodyAsJsonObject().getJsonArray("links").size(), "20 links a page by default");
        assertTrue(byDefault.bodyAsJsonObject().getString("next_cursor") != null, "and a cursor to the rest");
        assertEquals(25, ((HttpResponse<Buffer>) bad.resultAt(4)).bodyAsJsonObject().getJsonArray("links").size(), "up to 100 a page");
        assertEquals(400, ((HttpResponse<Buffer>) bad.resultAt(5)).statusCode(), "no more than 100");
        HttpResponse<Buffer> badCursor = bad.resultAt(0);
        HttpResponse<Buffer> badLimit = bad.resultAt(1);
        HttpResponse<Buffer> unknown = bad.resultAt(2);
        assertEquals(400, badCursor.statusCode());
        assertEquals("invalid_cursor", badCursor.bodyAsJsonObject().getString("error"));
        assertEquals(400, badLimit.statusCode());
        assertEquals(404, unknown.statusCode());
        ctx.completeNow();
      })));
  }

  @Test
  void anEscapedUsernameIsReadAsTheRouterReadsIt(VertxTestContext ctx) {
    // %64 is "d": the links route (through the router) decodes it, so the profile read must too.
    h.gateway(SHORT_WINDOWS, clock).compose(g -> Future.all(h.get(g, "/v1/profiles/%64emo"), h.get(g, "/v1/profiles/de%6Do"),
        h.get(g, "/v1/profiles/de%6do/links"), h.get(g, "/v1/profiles/de%zzo")))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        for (int i = 0; i < 3; i++) {
          HttpResponse<Buffer> r = all.resultAt(i);
          assertEquals(200, r.statusCode(), r.bodyAsString());
        }
        assertEquals("demo", ((HttpResponse<Buffer>) all.resultAt(0)).bodyAsJsonObject().getString("username"));
        HttpResponse<Buffer> bad = all.resultAt(3);
        assertEquals(400, bad.statusCode());
        assertEquals("malformed_uri", bad.bodyAsJsonObject().getString("error"));
        ctx.completeNow();
      })));
  }

  @Test
  void rejectsMalformedUsernamesWithJson400(VertxTestContext ctx) {
    h.gateway(SHORT_WINDOWS, clock).compose(g -> Future.all(
        h.get(g, "/v1/profiles/%2e%2e"), h.get(g, "/v1/profiles/" + "x".repeat(65)), h.get(g, "/v1/profiles/a%00b")))
      .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        for (int i = 0; i < 3; i++) {
          HttpResponse<Buffer> r = all.resultAt(i);
          assertEquals(400, r.statusCode());
          assertEquals("invalid_username", r.bodyAsJsonObject().getString("error"));
        }
        ctx.completeNow();
      })));
  }

  private Future<JsonArray> collectPages(Gateway g, String path, JsonArray acc, int guard) {
    if (guard > 10) {
      return Future.failedFuture("cursor loop");
    }
    return h.get(g, path).compose(r -> {
      assertEquals(200, r.statusCode(), r.bodyAsString());
      JsonObject body = r.bodyAsJsonObject();
      acc.addAll(body.getJsonArray("links"));
      String next = body.getString("next_cursor");
      return next == null ? Future.succeededFuture(acc)
        : collectPages(g, "/v1/profiles/demo/links?limit=10&cursor=" + next, acc, guard + 1);
    });
  }

  private Future<List<HttpResponse<Buffer>>> sequentially(Gateway g, List<String> usernames) {
    Future<List<HttpResponse<Buffer>>> chain = Future.succeededFuture(new ArrayList<>());
    for (String u : usernames) {
      chain = chain.compose(list -> h.get(g, "/v1/profiles/" + u).map(r -> {
        list.add(r);
        return list;
      }));
    }
    return chain;
  }

  private static String gunzip(Buffer b) {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(b.getBytes()))) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
