package dev.biogate.destination;

import dev.biogate.Gateway;
import dev.biogate.support.Harness;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Outbound destinations against a receiver of the test's own (a Vert.x server on an ephemeral port): Standard Webhooks
 * signatures checked by an independent verifier, retries, dead letters, replay, filters and secret rotation.
 */
@ExtendWith(VertxExtension.class)
class DestinationDeliveryTest {

  private static final String SECRET = "destination-secret-1";
  private static final byte[] ROTATED_KEY = "a-new-32-byte-key-for-rotation!!".getBytes(StandardCharsets.UTF_8);
  private static final String ROTATED = "whsec_" + Base64.getEncoder().encodeToString(ROTATED_KEY);

  /** One request the receiver got. */
  record Received(String path, int answered, String id, String timestamp, String signature, String body) {
  }

  private Harness h;
  private HttpServer receiver;
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicInteger> status = new ConcurrentHashMap<>();

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      int s = status.computeIfAbsent(req.path(), p -> new AtomicInteger(200)).get();
      received.add(new Received(req.path(), s, req.getHeader("webhook-id"), req.getHeader("webhook-timestamp"),
        req.getHeader("webhook-signature"), b.toString()));
      req.response().setStatusCode(s).end();
    }));
    receiver.listen(0, "127.0.0.1").compose(s -> h.start()).onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().compose(v -> receiver.close()).onComplete(ctx.succeedingThenComplete());
  }

  private JsonObject endpoint(String name, String secret, String... events) {
    JsonObject e = new JsonObject().put("name", name).put("url", "http://127.0.0.1:" + receiver.actualPort() + "/" + name)
      .put("events", new JsonArray(List.of((Object[]) events)));
    return secret == null ? e : e.put("secret", secret);
  }

  private JsonObject config(JsonObject... endpoints) {
    return Deliveries.config().put("destinations", new JsonObject().put("maxAttempts", 3).put("retryBaseMs", 20)
      .put("retryMaxMs", 100).put("breakerMaxFailures", 100).put("endpoints", new JsonArray(List.of((Object[]) endpoints))));
  }

  @Test
  void aDestinationDownIsRetriedDeadLetteredAndReplayedIntoExactlyOneSignedDelivery(VertxTestContext ctx) {
    status.put("/alerts", new AtomicInteger(503));
    h.gateway(config(endpoint("alerts", SECRET, "linktree.analytics.*"))).compose(g -> milestone(g, "ms-1")
        .compose(v -> h.eventually(() -> admin(g, HttpMethod.GET, "/admin/destinations/dead-letters")
          .map(r -> r.bodyAsJsonObject().getLong("count") == 1), 10_000))
        .compose(v -> admin(g, HttpMethod.GET, "/admin/destinations/dead-letters"))
        .compose(list -> {
          JsonObject dead = list.bodyAsJsonObject().getJsonArray("dead_letters").getJsonObject(0);
          assertEquals("alerts", dead.getString("destination"));
          assertEquals("linktree.analytics.milestone", dead.getString("type"));
          assertEquals(3, dead.getInteger("attempts"));
          assertEquals("destination answered 503", dead.getString("error"));
          assertTrue(!dead.containsKey("body"), "no payloads in the listing");
          assertEquals(3, received.size(), "three attempts, then dead-lettered");
          String webhookId = dead.getString("webhook_id");
          status.get("/alerts").set(200);
          return admin(g, HttpMethod.POST, "/admin/destinations/dead-letters/" + dead.getString("id") + "/replay")
            .compose(r -> {
              assertEquals(200, r.statusCode(), r.bodyAsString());
              return h.eventually(() -> admin(g, HttpMethod.GET, "/admin/destinations/deliveries/" + webhookId)
                .map(x -> "handled".equals(x.bodyAsJsonObject().getString("outcome"))), 10_000);
            })
            .compose(v -> Future.all(admin(g, HttpMethod.GET, "/admin/destinations/deliveries/" + webhookId),
              admin(g, HttpMethod.GET, "/admin/destinations/dead-letters")))
            .map(all -> {
              JsonObject history = all.<HttpResponse<Buffer>>resultAt(0).bodyAsJsonObject();
              assertEquals(4, history.getInteger("attempts"), history.encode());
              assertEquals(1, history.getInteger("replays"));
              JsonArray log = history.getJsonArray("attempt_log");
              assertEquals(4, log.size(), "every attempt recorded");
              assertEquals(List.of(503, 503, 503, 200), log.stream().map(o -> ((JsonObject) o).getInteger("status")).toList());
              assertEquals(0, all.<HttpResponse<Buffer>>resultAt(1).bodyAsJsonObject().getInteger("count"));
              List<Received> ok = received.stream().filter(r -> r.answered() == 200).toList();
              assertEquals(1, ok.size(), "exactly one delivery");
              assertEquals(1, received.stream().map(Received::id).distinct().count(), "webhook-id stable across retries and replay");
              Received d = ok.get(0);
              assertEquals(webhookId, d.id());
              assertTrue(verify(List.of(SECRET.getBytes(StandardCharsets.UTF_8)), d), "signature verifies");
              JsonObject body = new JsonObject(d.body());
              assertEquals("linktree.analytics.milestone", body.getString("type"));
              assertEquals("linktree", body.getJsonObject("source").getString("provider"));
              assertEquals("ms-1", body.getJsonObject("source").getString("delivery_id"));
              assertEquals(1000, body.getJsonObject("data").getJsonObject("data").getInteger("value"));
              assertNotNull(body.getString("timestamp"));
              return null;
            });
        }))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void filtersPickEventsByProviderAndTypeGlobAndRotationSignsWithEverySecret(VertxTestContext ctx) {
    h.gateway(config(endpoint("tree", SECRET + "," + ROTATED, "linktree.*"), endpoint("clicks", SECRET, "linkme.link.c*"),
        endpoint("none", null, "*.nothing"), endpoint("off", null, "*").put("enabled", false)))
      .compose(g -> milestone(g, "ms-2")
        .compose(v -> linkme(g, "lm-click", "link.click"))
        .compose(v -> linkme(g, "lm-claim", "link.claim"))
        .compose(v -> linkme(g, "lm-open", "link.app_open"))
        .compose(v -> h.eventually(() -> Future.succeededFuture(received.size() >= 3), 10_000))
        // Nothing more may arrive: a short window in which a wrongly matched destination would have been called.
        .compose(v -> h.vertx.timer(300))
        .map(v -> {
          Map<String, List<String>> byPath = received.stream().collect(Collectors.groupingBy(Received::path,
            Collectors.mapping(r -> new JsonObject(r.body()).getString("type"), Collectors.toList())));
          assertEquals(List.of("linktree.analytics.milestone"), byPath.get("/tree"));
          assertEquals(List.of("linkme.link.claim", "linkme.link.click"), byPath.get("/clicks").stream().sorted().toList());
          assertEquals(2, byPath.size(), "no other destination got anything: " + byPath);
          Received tree = received.stream().filter(r -> r.path().equals("/tree")).findFirst().orElseThrow();
          assertEquals(2, tree.signature().split(" ").length, "one signature per secret during the rotation");
          assertTrue(verify(List.of(SECRET.getBytes(StandardCharsets.UTF_8)), tree), "old secret verifies");
          assertTrue(verify(List.of(ROTATED_KEY), tree), "new secret verifies");
          assertTrue(!verify(List.of("wrong".getBytes(StandardCharsets.UTF_8)), tree), "a wrong secret does not");
          return null;
        }))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aDownDestinationOpensItsOwnBreakerWhileAnotherKeepsReceiving(VertxTestContext ctx) {
    status.put("/down", new AtomicInteger(503));
    JsonObject cfg = config(endpoint("down", SECRET, "linktree.*"), endpoint("up", SECRET, "linktree.*"));
    cfg.getJsonObject("destinations").put("breakerMaxFailures", 2).put("breakerResetMs", 60_000).put("maxAttempts", 50);
    h.gateway(cfg).compose(g -> milestone(g, "b-1").compose(v -> milestone(g, "b-2")).compose(v -> milestone(g, "b-3"))
        .compose(v -> h.eventually(() -> admin(g, HttpMethod.GET, "/admin/destinations").map(r -> {
          JsonObject d = r.bodyAsJsonObject().getJsonObject("destinations");
          return "OPEN".equals(d.getJsonObject("down").getString("breaker"));
        }), 10_000))
        .compose(v -> h.eventually(() -> Future.succeededFuture(count("/up") == 3), 10_000))
        .compose(v -> {
          long before = count("/down");
          // Without the open breaker, retries 20-100 ms apart would reach the receiver several times in this window.
          return h.vertx.timer(600).compose(t -> admin(g, HttpMethod.GET, "/admin/destinations")).map(r -> {
            JsonObject d = r.bodyAsJsonObject().getJsonObject("destinations");
            assertEquals(before, count("/down"), "an open breaker sends nothing");
            assertTrue(before <= 3 + 2, "the breaker opened after its failures: " + before);
            assertEquals("CLOSED", d.getJsonObject("up").getString("breaker"));
            assertEquals(3, count("/up"), "the healthy destination got every event once");
            assertTrue(!d.getJsonObject("down").containsKey("secret") && d.encode().indexOf(SECRET) < 0, "no secrets listed");
            return null;
          });
        }))
      .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * An event is not charged attempts for the destination being down: the failure that opens the breaker and failed
   * half-open probes keep it. The event whose failures opened the breaker used to spend its attempts on that, and one
   * used as a probe lost an attempt per probe, so an outage dead-lettered it while the others waited.
   */
  @Test
  void anEventIsKeptNotDeadLetteredWhileItsDestinationIsDown(VertxTestContext ctx) {
    status.put("/down", new AtomicInteger(503));
    JsonObject cfg = config(endpoint("down", SECRET, "linktree.*"));
    cfg.getJsonObject("destinations").put("breakerMaxFailures", 3).put("breakerResetMs", 200).put("maxAttempts", 3);
    h.gateway(cfg).compose(g -> milestone(g, "kept-1")
        .compose(v -> h.eventually(() -> admin(g, HttpMethod.GET, "/admin/destinations").map(r ->
          "OPEN".equals(r.bodyAsJsonObject().getJsonObject("destinations").getJsonObject("down").getString("breaker"))), 10_000))
        .compose(v -> h.eventually(() -> Future.succeededFuture(count("/down") > 5), 10_000)) // probes, 200 ms apart
        .compose(v -> admin(g, HttpMethod.GET, "/admin/destinations/dead-letters"))
        .compose(dead -> {
          assertEquals(0L, dead.bodyAsJsonObject().getLong("count"), "kept through the outage: " + dead.bodyAsString());
          status.get("/down").set(200);
          return h.eventually(() -> Future.succeededFuture(received.stream().anyMatch(r -> r.answered() == 200)), 10_000);
        }))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aDestinationsRateHoldsForTheWholeDeploymentNotPerInstance(VertxTestContext ctx) {
    int events = 24;
    double rate = 4;
    JsonObject cfg = config(endpoint("paced", null, "linktree.*").put("ratePerSec", rate));
    h.gateway(cfg).compose(a -> h.gateway(cfg).compose(b -> {
        List<Future<Void>> sends = new java.util.ArrayList<>();
        for (int i = 0; i < events; i++) {
          sends.add(milestone(i % 2 == 0 ? a : b, "paced-" + i));
        }
        return Future.all(sends)
          .compose(v -> h.eventually(() -> Future.succeededFuture(count("/paced") == events), 30_000))
          .compose(v -> {
            // When each delivery started, as its history records it (whichever instance made it).
            List<Future<HttpResponse<Buffer>>> lookups = new java.util.ArrayList<>();
            for (int i = 0; i < events; i++) {
              lookups.add(admin(a, HttpMethod.GET, "/admin/deliveries/paced-" + i));
            }
            return Future.all(lookups).map(all -> lookups.stream().map(f -> java.time.Instant.parse(f.result().bodyAsJsonObject()
              .getJsonArray("destinations").getJsonObject(0).getJsonArray("attempt_log").getJsonObject(0).getString("at"))
              .toEpochMilli()).sorted().toList());
          });
      }))
      .onComplete(ctx.succeeding(starts -> ctx.verify(() -> {
        // The bucket holds one second's worth (4 tokens) and refills 4 per second: 24 deliveries cannot start within
        // less than (24 - 4) / 4 = 5 s, whichever of the two instances send them (DestinationRateTest checks the
        // sharing itself exactly). A start is read just after its token was granted, hence the allowance for the
        // first grant's round trip to Redis.
        long spanMs = starts.get(starts.size() - 1) - starts.get(0);
        long boundMs = (long) ((events - DestinationRate.burst(rate)) / rate * 1000);
        assertTrue(spanMs >= boundMs - 1_000, "deliveries started over at least " + boundMs + " ms, took " + spanMs + " ms");
        ctx.completeNow();
      })));
  }

  /**
   * Deliveries waiting for their destination's pace wait on one pace check at a time: every one held asked Redis for a
   * token again each time the bucket said "the next in 10 ms", so a drill's burst of 1,000 events to a destination
   * paced at 100 a second cost 58,597 script calls and a whole core for 11 s. Here 150 events at 50 a second: the
   * bucket's reads (its script's {@code HMGET}) per delivery.
   */
  @Test
  void deliveriesWaitingForTheirPaceDoNotAskRedisForATokenOverAndOver(VertxTestContext ctx) {
    int events = 150;
    double rate = 50;
    long[] before = new long[1];
    JsonObject cfg = config(endpoint("paced", null, "linktree.*").put("ratePerSec", rate));
    h.gateway(cfg).compose(g -> h.redis(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.CONFIG).arg("RESETSTAT"))
        .compose(v -> {
          List<Future<Void>> sends = new java.util.ArrayList<>();
          for (int i = 0; i < events; i++) {
            sends.add(milestone(g, "spin-" + i));
          }
          return Future.all(sends);
        })
        .compose(v -> h.eventually(() -> Future.succeededFuture(count("/paced") == events), 30_000))
        .compose(v -> h.redis(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.INFO).arg("commandstats"))))
      .onComplete(ctx.succeeding(stats -> ctx.verify(() -> {
        long checks = 0;
        for (String line : stats.toString().split("\r?\n")) {
          if (line.startsWith("cmdstat_hmget:")) {
            checks = Long.parseLong(line.substring(line.indexOf("calls=") + 6, line.indexOf(',')));
          }
        }
        assertEquals(events, count("/paced"), "each event delivered once");
        assertTrue(checks <= 3L * events, checks + " pace checks for " + events + " deliveries");
        ctx.completeNow();
      })));
  }

  /**
   * Two instances on one Redis, a destination paced to one delivery a second and slow to answer. Entries waiting for a
   * token are kept without attempts, so they go idle and the other instance may take them over (that is how a kept
   * entry reaches an instance able to send it); the attempt that finally gets a token must not let the entry be taken
   * over while it is on the wire. The receiver holds each first request of a webhook-id for {@code HOLD_MS} (several
   * times {@code claimIdleMs}: a take-over would happen inside it) and lets it go at once when the same id arrives
   * again, so a second sender shows up as a second request.
   */
  @Test
  void aDeliveryIsSentByOneInstanceOnlyAndNeverAgainAfterItsTwoHundred(Vertx vertx, VertxTestContext ctx) {
    int events = 4;
    long holdMs = 3_000;
    Map<String, io.vertx.core.Promise<Void>> holding = new ConcurrentHashMap<>();
    vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      String id = req.getHeader("webhook-id");
      received.add(new Received(req.path(), 200, id, req.getHeader("webhook-timestamp"), req.getHeader("webhook-signature"),
        b.toString()));
      io.vertx.core.Promise<Void> release = io.vertx.core.Promise.promise();
      io.vertx.core.Promise<Void> first = holding.putIfAbsent(id, release);
      if (first != null) {
        first.tryComplete();
        req.response().end();
        return;
      }
      long timer = vertx.setTimer(holdMs, t -> release.tryComplete());
      release.future().onComplete(v -> {
        vertx.cancelTimer(timer);
        req.response().end();
      });
    })).listen(0, "127.0.0.1").compose(slow -> {
      JsonObject paced = new JsonObject().put("name", "slow").put("url", "http://127.0.0.1:" + slow.actualPort() + "/slow")
        .put("events", new JsonArray().add("linktree.*")).put("ratePerSec", 1);
      JsonObject cfg = config(paced);
      cfg.getJsonObject("destinations").put("maxAttempts", 10).put("timeoutMs", 20_000);
      return h.gateway(cfg).compose(a -> h.gateway(cfg).compose(b -> {
        List<Future<Void>> sends = new java.util.ArrayList<>();
        for (int i = 0; i < events; i++) {
          sends.add(milestone(a, "once-" + i));
        }
        return Future.all(sends)
          .compose(v -> h.eventually(() -> {
            List<Future<HttpResponse<Buffer>>> lookups = new java.util.ArrayList<>();
            for (int i = 0; i < events; i++) {
              lookups.add(admin(b, HttpMethod.GET, "/admin/deliveries/once-" + i));
            }
            return Future.all(lookups).map(all -> lookups.stream().allMatch(f -> "handled".equals(f.result().bodyAsJsonObject()
              .getJsonArray("destinations").getJsonObject(0).getString("outcome"))));
          }, 30_000))
          .compose(v -> {
            List<Future<HttpResponse<Buffer>>> lookups = new java.util.ArrayList<>();
            for (int i = 0; i < events; i++) {
              lookups.add(admin(a, HttpMethod.GET, "/admin/deliveries/once-" + i));
            }
            return Future.all(lookups).map(all -> lookups.stream().map(f -> f.result().bodyAsJsonObject()
              .getJsonArray("destinations").getJsonObject(0)).toList());
          })
          .eventually(() -> slow.close());
      }));
    }).onComplete(ctx.succeeding(histories -> ctx.verify(() -> {
      Map<String, Long> perId = received.stream().collect(Collectors.groupingBy(Received::id, Collectors.counting()));
      assertEquals(events, perId.size(), "every delivery arrived: " + perId);
      assertEquals(Map.of(), perId.entrySet().stream().filter(e -> e.getValue() > 1)
        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)), "a delivery was sent more than once");
      for (JsonObject d : histories) {
        assertEquals(1, d.getInteger("attempts"), d.encode());
        assertEquals(1, d.getJsonArray("attempt_log").size(), "one attempt, with its 200: " + d.encode());
      }
      ctx.completeNow();
    })));
  }

  /**
   * A rolling change of the destination list: instance a sends to "crm", instance b (older configuration) knows only
   * "legacy". Both read the one outbound stream, so b reads some of crm's deliveries. It must leave them for an instance
   * that knows crm (kept without an attempt, so they go idle and are taken over), never dead-letter them. And the
   * events b handles itself must go to crm too: b fanned them out to its own list only, so a drill saw 842 of the 844
   * events sent to b recorded "handled" with no destination, never forwarded, with nothing logged.
   */
  @Test
  void anInstanceThatDoesNotKnowADestinationLeavesItsDeliveriesToOneThatDoes(VertxTestContext ctx) {
    int events = 12;
    JsonObject withCrm = config(endpoint("crm", SECRET, "linktree.*"));
    JsonObject without = config(endpoint("legacy", SECRET, "linkme.*"));
    h.gateway(without).compose(b -> h.gateway(withCrm).compose(a -> h.eventually(() -> Future.succeededFuture(
        b.fanOut().matching("linktree.analytics.milestone").contains("crm")), 15_000).compose(learned -> {
      // b learns a's destinations at its next renewal (every 5 s): from then on, every event it handles goes there too.
      List<Future<Void>> sends = new java.util.ArrayList<>();
      for (int i = 0; i < events; i++) {
        sends.add(milestone(i % 2 == 0 ? a : b, "roll-" + i));
      }
      return Future.all(sends)
        .compose(v -> h.eventually(() -> Future.succeededFuture(received.stream().map(Received::id).distinct().count() == events),
          20_000))
        .compose(v -> admin(b, HttpMethod.GET, "/admin/destinations/dead-letters"));
    }))).onComplete(ctx.succeeding(dead -> ctx.verify(() -> {
      assertEquals(0, dead.bodyAsJsonObject().getLong("count"), dead.bodyAsString());
      Map<String, Long> perId = received.stream().collect(Collectors.groupingBy(Received::id, Collectors.counting()));
      assertEquals(events, perId.size());
      assertTrue(perId.values().stream().allMatch(n -> n == 1), "each delivery sent once: " + perId);
      assertTrue(received.stream().allMatch(r -> r.path().equals("/crm")));
      ctx.completeNow();
    })));
  }

  /**
   * Deliveries to one destination go out concurrently, up to the deliveries an instance holds (64). The client kept
   * Vert.x's default of 5 connections per host, so a drill's receiver answering in 0.15 s saw at most 5 requests per
   * gateway while 55 deliveries/s arrived: each attempt waited ~2.3 s for a connection inside the gateway, and a
   * deeper backlog would have timed out attempts the destination answers quickly. The receiver here answers nothing
   * until 12 requests are open at once.
   */
  @Test
  void deliveriesToOneDestinationGoOutConcurrently(Vertx vertx, VertxTestContext ctx) {
    int together = 12;
    List<io.vertx.core.http.HttpServerRequest> open = new java.util.ArrayList<>();
    AtomicInteger most = new AtomicInteger();
    vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      received.add(new Received(req.path(), 200, req.getHeader("webhook-id"), null, null, b.toString()));
      open.add(req);
      most.accumulateAndGet(open.size(), Math::max);
      if (open.size() >= together) {
        open.forEach(r -> r.response().end());
        open.clear();
      }
    })).listen(0, "127.0.0.1").compose(server -> {
      JsonObject wide = new JsonObject().put("name", "wide").put("url", "http://127.0.0.1:" + server.actualPort() + "/wide")
        .put("events", new JsonArray().add("linktree.*")).put("ratePerSec", 1_000);
      return h.gateway(config(wide)).compose(g -> {
        List<Future<Void>> sends = new java.util.ArrayList<>();
        for (int i = 0; i < together; i++) {
          sends.add(milestone(g, "wide-" + i));
        }
        return Future.all(sends).compose(v -> h.eventually(() -> Future.succeededFuture(
          received.stream().map(Received::id).distinct().count() == together), 10_000));
      }).eventually(() -> server.close());
    }).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertEquals(together, most.get(), "requests open at the receiver at once");
      ctx.completeNow();
    })));
  }

  @Test
  void everyAttemptIsRecordedWithItsStartDurationAndStatusOrError(VertxTestContext ctx) {
    // Nothing listens on the "nowhere" destination's port: each attempt ends in a connection error.
    JsonObject nowhere = new JsonObject().put("name", "nowhere").put("url", "http://127.0.0.1:1/hook")
      .put("events", new JsonArray().add("linktree.*"));
    JsonObject cfg = config(nowhere, endpoint("flaky", null, "linktree.*"));
    cfg.getJsonObject("destinations").put("maxAttempts", 2);
    status.put("/flaky", new AtomicInteger(502));
    h.gateway(cfg).compose(g -> milestone(g, "att-1")
        .compose(v -> h.eventually(() -> admin(g, HttpMethod.GET, "/admin/destinations/dead-letters")
          .map(r -> r.bodyAsJsonObject().getLong("count") == 2), 10_000))
        .compose(v -> admin(g, HttpMethod.GET, "/admin/deliveries/att-1")))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        JsonObject event = r.bodyAsJsonObject();
        assertEquals("forwarded to 2 destinations", event.getString("result"), event.encode());
        Map<String, JsonObject> byName = event.getJsonArray("destinations").stream().map(JsonObject.class::cast)
          .collect(Collectors.toMap(d -> d.getString("destination"), d -> d));
        for (String name : List.of("nowhere", "flaky")) {
          JsonObject d = byName.get(name);
          assertNotNull(d, name + " in " + event.encode());
          assertEquals("dead_lettered", d.getString("outcome"), d.encode());
          JsonArray log = d.getJsonArray("attempt_log");
          assertEquals(2, log.size(), "every attempt recorded: " + d.encode());
          for (Object o : log) {
            JsonObject attempt = (JsonObject) o;
            assertNotNull(java.time.Instant.parse(attempt.getString("at")), attempt.encode());
            assertTrue(attempt.getLong("duration_ms") >= 0, attempt.encode());
            if (name.equals("flaky")) {
              assertEquals(502, attempt.getInteger("status"), attempt.encode());
            } else {
              assertTrue(attempt.getString("error").startsWith("no answer"), attempt.encode());
              assertTrue(!attempt.containsKey("status"), attempt.encode());
            }
          }
        }
        ctx.completeNow();
      })));
  }

  private long count(String path) {
    return received.stream().filter(r -> r.path().equals(path)).count();
  }

  /**
   * The Standard Webhooks verifier, written from the specification: any {@code v1,<base64>} entry of the
   * space-separated header must equal base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
   */
  private static boolean verify(List<byte[]> keys, Received r) {
    byte[] content = (r.id() + "." + r.timestamp() + "." + r.body()).getBytes(StandardCharsets.UTF_8);
    for (byte[] key : keys) {
      byte[] expected;
      try {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        expected = mac.doFinal(content);
      } catch (Exception e) {
        throw new AssertionError(e);
      }
      for (String sig : r.signature().split(" ")) {
        int comma = sig.indexOf(',');
        if (comma > 0 && sig.substring(0, comma).equals("v1")
          && MessageDigest.isEqual(expected, Base64.getDecoder().decode(sig.substring(comma + 1)))) {
          return true;
        }
      }
    }
    return false;
  }

  private Future<Void> milestone(Gateway g, String deliveryId) {
    Buffer body = Deliveries.milestone("lnk_demo_01", 1000);
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(deliveryId, body), body).map(r -> {
      assertEquals(200, r.statusCode(), r.bodyAsString());
      return null;
    });
  }

  private Future<Void> linkme(Gateway g, String id, String type) {
    Buffer body = Deliveries.linkmeEvent(id, type, new JsonObject().put("link_id", "lm_1"));
    return h.post(g, "/webhooks/linkme", Deliveries.linkme(body), body).map(r -> {
      assertEquals(200, r.statusCode(), r.bodyAsString());
      return null;
    });
  }

  private Future<HttpResponse<Buffer>> admin(Gateway g, HttpMethod method, String path) {
    return h.send(method, g, path, Deliveries.ADMIN_TOKEN);
  }
}
