package dev.biogate.analytics;

import dev.biogate.Gateway;
import dev.biogate.support.Harness;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No click is lost: 10,000 clicks (redirects over HTTP and direct recordings) while Redis is stopped for part of the
 * run and the gateway is restarted once on the same journal, and the analytics API counts every one exactly once.
 */
@ExtendWith(VertxExtension.class)
class ClickDurabilityTest {

  private static final String[] USERS = {"demo", "alice"};
  private static final int[] LINKS = {25, 12};
  private static final int CONCURRENCY = 64;

  @TempDir
  Path dir;
  private DurableRedis redis;
  private Harness h;
  private final Map<String, Map<String, Integer>> expected = new TreeMap<>();
  private int seq;

  @AfterEach
  void stop(VertxTestContext ctx) {
    Future<Void> closing = h == null ? Future.succeededFuture() : h.close();
    closing.onComplete(ar -> {
      try {
        redis.stop();
      } catch (Exception ignored) {
        // best effort
      }
      ctx.completeNow();
    });
  }

  @Test
  void countsTenThousandClicksExactlyAcrossARedisOutageAndAGatewayRestart(Vertx vertx, VertxTestContext ctx) throws Exception {
    redis = DurableRedis.start(dir);
    h = new Harness(vertx);
    JsonObject cfg = Clicks.config(dir.resolve("clicks.journal"));
    long from = System.currentTimeMillis() - 60_000;
    String[] keys = new String[2];
    Gateway[] first = new Gateway[1];
    h.start(redis.url(), new JsonObject())
      .compose(v -> Gateway.start(vertx, h.config(cfg)))
      .compose(a -> {
        first[0] = a;
        return Clicks.issueKey(h, a, "demo").compose(k -> {
          keys[0] = k;
          return Clicks.issueKey(h, a, "alice");
        }).map(k -> keys[1] = k).map(a);
      })
      // 1. Redis up: 2,500 redirects and 1,000 direct recordings.
      .compose(a -> redirects(a, 2_500).compose(v -> direct(a, 1_000)).compose(v -> drained(vertx, a)).map(a))
      // 2. Redis stopped: 1,500 redirects still answered at once, 1,000 direct; all journaled.
      .compose(a -> blocking(vertx, () -> { redis.stop(); return a; }))
      .compose(a -> redirects(a, 1_500).compose(v -> direct(a, 1_000)).compose(v -> drained(vertx, a)).map(v -> {
        assertTrue(a.clickRecorder().journalDepth() > 0, "clicks were journaled during the outage");
        return a;
      }))
      // 3. The gateway restarts while Redis is still down; the new instance finds the journal and keeps appending. It
      //    holds no profile and may not call the upstream (it never reported to the shared budget, so no share of it
      //    is reserved): its clicks here are recorded directly, not through redirects.
      .compose(Gateway::close)
      .compose(v -> h.gateway(cfg))
      .compose(b -> {
        assertTrue(b.clickRecorder().journalDepth() >= 2_500, "the journal survived the restart: " + b.clickRecorder().journalDepth());
        return direct(b, 2_000).compose(v -> drained(vertx, b)).map(b);
      })
      // 4. Redis returns: the journal is replayed while 2,000 more clicks arrive.
      .compose(b -> blocking(vertx, () -> { redis.restart(); return b; }))
      // The restarted instance may call the upstream (its redirects need the profile) once it has reported to the
      // shared budget on the returned Redis.
      .compose(b -> Clicks.eventually(vertx, () -> Future.succeededFuture(b.budget().isRegistered() && !b.budget().isDegraded()),
        10_000, "the instance reported to the shared budget").map(b))
      .compose(b -> redirects(b, 1_000).compose(v -> direct(b, 1_000)).map(b))
      .compose(b -> {
        assertEquals(10_000, seq, "10,000 clicks sent");
        return Clicks.eventually(vertx, () -> totals(b, keys, from).map(t -> t == 10_000 && b.clickRecorder().journalDepth() == 0),
          30_000, "all 10,000 clicks counted and the journal drained").map(b);
      })
      .compose(b -> Future.all(Clicks.query(h, b, keys[0], "demo", from, from + 1_200_000, "minute"),
        Clicks.query(h, b, keys[1], "alice", from, from + 1_200_000, "hour")))
      .onComplete(ctx.succeeding(answers -> ctx.verify(() -> {
        for (int u = 0; u < USERS.length; u++) {
          JsonObject links = ((JsonObject) answers.resultAt(u)).getJsonObject("links");
          assertEquals(new JsonObject(new TreeMap<>(expected.get(USERS[u]))), new JsonObject(new TreeMap<>(links.getMap())),
            "per-link counts of " + USERS[u]);
        }
        ctx.completeNow();
      })));
  }

  private String[] next() {
    int i = seq++;
    int u = i % 2;
    String link = String.format("lnk_%s_%02d", USERS[u], (i / 2) % LINKS[u] + 1);
    expected.computeIfAbsent(USERS[u], k -> new TreeMap<>()).merge(link, 1, Integer::sum);
    return new String[] {USERS[u], link};
  }

  /** {@code n} redirects, {@link #CONCURRENCY} in flight; each must be a 302. */
  private Future<Void> redirects(Gateway g, int n) {
    List<String> paths = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String[] c = next();
      paths.add("/r/" + c[0] + "/" + c[1]);
    }
    List<Future<Void>> lanes = new ArrayList<>();
    for (int lane = 0; lane < CONCURRENCY; lane++) {
      lanes.add(lane(g, paths, lane));
    }
    return Future.all(lanes).mapEmpty();
  }

  private static final java.util.concurrent.atomic.AtomicLong VISITORS = new java.util.concurrent.atomic.AtomicLong();

  private Future<Void> lane(Gateway g, List<String> paths, int i) {
    if (i >= paths.size()) {
      return Future.succeededFuture();
    }
    // Each redirect from a different visitor: one visitor's repeats within the window count once.
    return h.http.get(g.port(), "127.0.0.1", paths.get(i)).followRedirects(false).putHeader("User-Agent", "Mozilla/5.0 visitor-" + VISITORS.incrementAndGet())
      .send().compose(r -> redirected(r, paths.get(i)))
      .compose(v -> lane(g, paths, i + CONCURRENCY));
  }

  private static Future<Void> redirected(HttpResponse<Buffer> r, String path) {
    return r.statusCode() == 302 ? Future.succeededFuture() : Future.failedFuture(path + " answered " + r.statusCode() + " " + r.bodyAsString());
  }

  private Future<Void> direct(Gateway g, int n) {
    long now = System.currentTimeMillis();
    for (int i = 0; i < n; i++) {
      String[] c = next();
      g.clickRecorder().record(ClickEvent.redirect(c[0], c[1], now));
    }
    return Future.succeededFuture();
  }

  /** Every click this instance accepted has reached Redis or the journal. */
  private static Future<Void> drained(Vertx vertx, Gateway g) {
    return Clicks.eventually(vertx, () -> Future.succeededFuture(g.clickRecorder().queued() == 0), 10_000, "recorder drained");
  }

  private Future<Long> totals(Gateway g, String[] keys, long from) {
    return Future.all(Clicks.query(h, g, keys[0], "demo", from, from + 1_200_000, "minute"),
        Clicks.query(h, g, keys[1], "alice", from, from + 1_200_000, "day"))
      .map(all -> ((JsonObject) all.resultAt(0)).getLong("total") + ((JsonObject) all.resultAt(1)).getLong("total"));
  }

  private static <T> Future<T> blocking(Vertx vertx, Callable<T> work) {
    return vertx.executeBlocking(work);
  }
}
