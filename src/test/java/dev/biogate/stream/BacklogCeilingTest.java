package dev.biogate.stream;

import dev.biogate.support.Sharded;
import dev.biogate.Gateway;
import dev.biogate.analytics.Clicks;
import dev.biogate.destination.OutboundKeys;
import dev.biogate.redis.RedisKeys;
import dev.biogate.sandbox.SandboxKlaviyoOptions;
import dev.biogate.support.Harness;
import dev.biogate.support.Receiver;
import dev.biogate.support.TestRedis;
import dev.biogate.webhook.Deliveries;
import io.micrometer.core.instrument.FunctionCounter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
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
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Streams are trimmed only below what every consumer group has finished, and a full stream pushes back instead of
 * dropping: clicks past the ceiling wait in the local journal, webhooks past it are answered 503 (the provider
 * retries). Nothing answered 200 or 302 is lost.
 */
@ExtendWith(VertxExtension.class)
class BacklogCeilingTest {

  private static final Logger LOG = LoggerFactory.getLogger(BacklogCeilingTest.class);

  @TempDir
  Path dir;
  private Harness h;
  private Receiver receiver;

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().eventually(() -> receiver == null ? Future.succeededFuture() : receiver.close())
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 2, timeUnit = TimeUnit.MINUTES)
  void withTheSinkDownMoreClicksThanTheCeilingAreAllDeliveredAfterRecovery(Vertx vertx, VertxTestContext ctx) {
    int ceiling = 100;
    int clicks = 300;
    JsonObject cfg = Clicks.config(dir.resolve("a.journal"));
    cfg.getJsonObject("analytics").put("streamMaxLen", ceiling).put("batchSize", 20);
    // One shard: the ceiling is split over the shards (100 over 16 leaves 6 each, smaller than one batch).
    cfg.put("webhooks", cfg.getJsonObject("webhooks", new JsonObject()).copy().put("shards", 1));
    h = new Harness(vertx);
    Gateway[] g = new Gateway[1];
    h.start(TestRedis.url(), new JsonObject(), SandboxKlaviyoOptions.defaults())
      .compose(v -> h.gateway(cfg.put("klaviyo", new JsonObject().put("enabled", true).put("apiBase", h.sandboxBase())
        .put("privateKey", SandboxKlaviyoOptions.DEFAULT_KEY).put("maxAttempts", 100).put("retryBaseMs", 20)
        .put("retryMaxMs", 200).put("breakerResetMs", 300))))
      .compose(gw -> h.klaviyoFault(new JsonObject().put("mode", "down")).map(g[0] = gw))
      .compose(v -> redirects(g[0], clicks))
      // Every click is somewhere durable: the stream holds at most the ceiling, the journal the rest.
      .compose(v -> Clicks.eventually(vertx, () -> Future.succeededFuture(g[0].clickRecorder().queued() == 0), 10_000, "recorded"))
      .compose(v -> Sharded.xlen(h::redis, RedisKeys::clicksShard).map(len -> {
        assertTrue(len <= ceiling, "the clicks stream stays within its ceiling: " + len);
        assertTrue(g[0].clickRecorder().journaled() >= clicks - ceiling, "clicks past the ceiling were journaled: "
          + g[0].clickRecorder().journaled());
        return null;
      }))
      .compose(v -> h.klaviyoStats().map(s -> {
        assertEquals(0, s.getInteger("unique"), "nothing reached Klaviyo while it was down");
        return null;
      }))
      .compose(v -> h.klaviyoFault(new JsonObject().put("mode", "ok")))
      .compose(v -> Clicks.eventually(vertx, () -> h.klaviyoStats().map(s -> s.getInteger("unique") == clicks
        && g[0].clickCounter().counted() == clicks && g[0].clickRecorder().journalDepth() == 0), 90_000, "every click delivered"))
      .compose(v -> h.klaviyoStats())
      .onComplete(ctx.succeeding(s -> ctx.verify(() -> {
        LOG.info("clicks made {}, delivered to Klaviyo {}, counted {}, journaled on the way {}", clicks, s.getInteger("unique"),
          g[0].clickCounter().counted(), g[0].clickRecorder().journaled());
        assertEquals(clicks, s.getInteger("unique"));
        assertEquals(0.0, lost(g[0]), "no pending entry was ever trimmed");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 2, timeUnit = TimeUnit.MINUTES)
  void withADestinationDownDeliveriesPastTheCeilingGet503AndEveryAcceptedOneIsDeliveredAfterRestart(Vertx vertx,
                                                                                                    VertxTestContext ctx) {
    int ceiling = 20;
    int sent = 30;
    receiver = new Receiver(vertx);
    receiver.status.set(500);
    h = new Harness(vertx);
    Set<String> accepted = new HashSet<>();
    List<String> refused = new ArrayList<>();
    receiver.start().compose(r -> h.start()).compose(x -> {
      // The destination is down and its backlog (the outbound stream) holds one delivery: every later event waits on
      // the events stream, which fills to its ceiling. One shard: the ceiling is split over the shards, and which shard
      // a delivery lands on follows its body; with one shard exactly `ceiling` deliveries fit, whatever their bodies.
      JsonObject destinations = receiver.destinations("ops", "linktree.analytics.milestone").put("maxAttempts", 100)
        .put("retryBaseMs", 200).put("retryMaxMs", 1_000).put("breakerMaxFailures", 1_000);
      JsonObject cfg = Deliveries.config().put("webhooks", Deliveries.webhooks().put("streamMaxLen", ceiling).put("shards", 1))
        .put("destinations", destinations.copy().put("streamMaxLen", 1));
      Gateway[] a = new Gateway[1];
      return h.gateway(cfg).compose(gw -> post(a[0] = gw, "first"))
        .compose(r -> {
          assertEquals(200, r.statusCode(), r.bodyAsString());
          accepted.add("first");
          // The first event went to the destination's backlog and left the events stream.
          return h.eventually(() -> Future.all(xlen(OutboundKeys.STREAM), xlen(RedisKeys.eventsShard(0)))
            .map(all -> all.<Long>resultAt(0) == 1L && all.<Long>resultAt(1) == 0L), 10_000);
        })
        .compose(v -> send(a[0], 0, sent, accepted, refused))
        .compose(v -> {
          assertEquals(ceiling + 1, accepted.size(), "deliveries accepted up to the ceiling");
          assertEquals(sent - ceiling, refused.size(), "the rest pushed back");
          return h.get(a[0], "/metrics");
        })
        .compose(metrics -> {
          // What the backlog alert reads: the backlog next to its ceiling, per stream.
          String text = metrics.bodyAsString();
          assertTrue(text.contains("biogate_stream_ceiling{stream=\"events\"} " + ceiling + ".0"), "ceiling gauge");
          assertTrue(text.contains("biogate_stream_backlog{stream=\"events\"}"), "backlog gauge");
          assertTrue(text.contains("biogate_stream_lost_total{"), "lost entries counter");
          return h.close(a[0]);
        })
        .compose(v -> {
          // The destination recovers and the gateway restarts (a new instance, with room for the backlog).
          receiver.status.set(200);
          return h.gateway(cfg.copy().put("destinations", destinations));
        })
        .compose(b -> h.eventually(() -> Future.succeededFuture(receiver.delivered().containsAll(accepted)), 20_000)
          .compose(v -> resend(b, refused, accepted))
          .compose(v -> h.eventually(() -> Future.succeededFuture(receiver.delivered().size() == sent + 1), 20_000)))
        .map(v -> {
          assertEquals(sent + 1, accepted.size(), "the refused deliveries were accepted once retried");
          assertEquals(accepted, receiver.delivered(), "every delivery answered 200 reached the destination");
          assertEquals(sent + 1, receiver.deliveries(), "each exactly once");
          return null;
        });
    }).onComplete(ctx.succeedingThenComplete());
  }

  private Future<Long> xlen(String stream) {
    return h.redis(Request.cmd(Command.XLEN).arg(stream)).map(r -> r.toLong());
  }

  /** Sends deliveries {@code from..to-1} one after another; 200s are accepted, 503 backlog_full refused. */
  private Future<Void> send(Gateway g, int i, int to, Set<String> accepted, List<String> refused) {
    if (i == to) {
      return Future.succeededFuture();
    }
    String id = "full-" + i;
    return post(g, id).compose(r -> {
      if (r.statusCode() == 200) {
        assertEquals(Boolean.TRUE, r.bodyAsJsonObject().getBoolean("received"), r.bodyAsString());
        accepted.add(id);
      } else {
        assertEquals(503, r.statusCode(), r.bodyAsString());
        assertEquals("backlog_full", r.bodyAsJsonObject().getString("error"));
        assertTrue(Long.parseLong(r.getHeader("Retry-After")) >= 1);
        refused.add(id);
      }
      return send(g, i + 1, to, accepted, refused);
    });
  }

  private Future<Void> resend(Gateway g, List<String> ids, Set<String> accepted) {
    Future<Void> chain = Future.succeededFuture();
    for (String id : ids) {
      chain = chain.compose(v -> post(g, id).map(r -> {
        assertEquals(200, r.statusCode(), r.bodyAsString());
        accepted.add(id);
        return null;
      }));
    }
    return chain;
  }

  private Future<HttpResponse<Buffer>> post(Gateway g, String id) {
    Buffer body = Deliveries.linktreeEvent("analytics.milestone", new JsonObject().put("link_id", id)
      .put("metric", "clicks").put("value", 100).put("threshold", 100));
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, body), body);
  }

  /** {@code n} redirects over HTTP, 16 at a time; each must be a 302. */
  private Future<Void> redirects(Gateway g, int n) {
    List<Future<Void>> lanes = new ArrayList<>();
    for (int lane = 0; lane < 16; lane++) {
      lanes.add(lane(g, lane, n));
    }
    return Future.all(lanes).mapEmpty();
  }

  private Future<Void> lane(Gateway g, int i, int n) {
    if (i >= n) {
      return Future.succeededFuture();
    }
    String path = String.format("/r/demo/lnk_demo_%02d", i % 25 + 1);
    // Each redirect from a different visitor: one visitor's repeats within the window count once.
    return h.http.get(g.port(), "127.0.0.1", path).followRedirects(false).putHeader("User-Agent", "Mozilla/5.0 visitor-" + i)
      .send().compose(r -> r.statusCode() == 302 ? lane(g, i + 16, n)
      : Future.failedFuture(path + " answered " + r.statusCode() + " " + r.bodyAsString()));
  }

  private static double lost(Gateway g) {
    return g.registry().find("biogate.stream.lost").functionCounters().stream().mapToDouble(FunctionCounter::count).sum();
  }
}
