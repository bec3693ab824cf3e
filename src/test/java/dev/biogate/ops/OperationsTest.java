package dev.biogate.ops;

import dev.biogate.Gateway;
import dev.biogate.config.BiogateConfig;
import dev.biogate.config.SandboxOptions;
import dev.biogate.redis.EmbeddedRedis;
import dev.biogate.support.Harness;
import dev.biogate.support.TestRedis;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Health transitions, Prometheus metrics and preflight, against real Redis and the sandbox. */
@ExtendWith(VertxExtension.class)
class OperationsTest {

  @Test
  void metricsExposeTheDocumentedNamesWithBoundedLabels(VertxTestContext ctx) {
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    Vertx vertx = Metrics.newVertx(new VertxOptions(), registry);
    Harness h = new Harness(vertx);
    h.start()
      .compose(v -> Gateway.start(vertx, h.config(new JsonObject()), System::currentTimeMillis, registry))
      .compose(g -> h.get(g, "/v1/profiles/demo").compose(r -> h.get(g, "/v1/profiles/demo"))
        .compose(r -> h.get(g, "/v1/profiles/nobody")).compose(r -> h.get(g, "/v1/profiles/demo/links"))
        .compose(r -> h.get(g, "/metrics"))
        .eventually(g::close))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        vertx.close();
        assertEquals(200, r.statusCode());
        assertTrue(r.getHeader("Content-Type").startsWith("text/plain"));
        String text = r.bodyAsString();
        for (String name : new String[] {
          "biogate_http_server_responses_total", "biogate_http_server_requests_seconds_bucket", "vertx_http_client_requests_total",
          "biogate_profile_reads_total{result=\"hit\"}", "biogate_profile_reads_total{result=\"miss\"}",
          "biogate_upstream_request_duration_seconds_bucket", "biogate_upstream_budget_used", "biogate_upstream_budget_limit",
          "biogate_upstream_ratelimit_remaining", "biogate_upstream_circuit_state", "biogate_upstream_backoff_seconds",
          "biogate_profile_links_dropped_total", "biogate_profile_l1_entries", "biogate_http_connections_open",
          "biogate_http_connections_max", "biogate_http_connections_refused_total"}) {
          assertTrue(text.contains(name), "missing " + name);
        }
        assertTrue(text.contains("biogate_http_server_responses_total{method=\"GET\",route=\"/v1/profiles/:username\",status=\"200\"} 2.0"),
          "fast path counts every response under its route template");
        assertTrue(text.contains("biogate_http_server_responses_total{method=\"GET\",route=\"/v1/profiles/:username/links\",status=\"200\"} 1.0"),
          "routed requests report their route template");
        Matcher hit = Pattern.compile("biogate_profile_reads_total\\{result=\"hit\"} (\\S+)").matcher(text);
        assertTrue(hit.find());
        assertEquals(1.0, Double.parseDouble(hit.group(1)));
        Matcher labels = Pattern.compile("\\{[^}]*}").matcher(text);
        while (labels.find()) {
          assertFalse(labels.group().contains("demo") || labels.group().contains("nobody"), "no usernames as labels: " + labels.group());
        }
        ctx.completeNow();
      })));
  }

  @Test
  void healthDegradesWhenRedisStopsAndWhenTheUpstreamRateLimits(Vertx vertx, VertxTestContext ctx) throws Exception {
    EmbeddedRedis redis = TestRedis.dedicated();
    Harness h = new Harness(vertx);
    dev.biogate.Gateway[] prober = new dev.biogate.Gateway[1];
    h.start(redis.url(), new JsonObject())
      // A second instance that has only ever answered a name that does not exist: a remembered 404 is nothing to serve.
      .compose(v -> h.gateway(new JsonObject())).compose(p -> {
        prober[0] = p;
        return h.get(p, "/v1/profiles/nobody").map(notFound -> {
          assertEquals(404, notFound.statusCode());
          return null;
        });
      })
      .compose(v -> h.gateway(new JsonObject()))
      .compose(g -> h.get(g, "/health").compose(healthy -> {
        assertEquals(200, healthy.statusCode());
        JsonObject body = healthy.bodyAsJsonObject();
        assertEquals("healthy", body.getString("status"));
        assertEquals("healthy", body.getJsonObject("services").getJsonObject("redis").getString("status"));
        assertTrue(body.getJsonObject("services").getJsonObject("redis").containsKey("latencyMs"));
        return h.get(g, "/v1/profiles/demo");
      }).compose(cached -> {
        assertEquals(200, cached.statusCode());
        return h.fault(new JsonObject().put("mode", "ratelimit").put("retry_after_s", 30));
      }).compose(v -> h.get(g, "/v1/profiles/alice")).compose(limited -> h.get(g, "/health")).compose(afterLimit -> {
        JsonObject body = afterLimit.bodyAsJsonObject();
        assertEquals(200, afterLimit.statusCode());
        assertEquals("degraded", body.getString("status"), body.encode());
        assertEquals("degraded", body.getJsonObject("services").getJsonObject("linktree").getString("status"));
        return vertx.executeBlocking(() -> {
          redis.stop();
          return null;
        });
      })
      // Redis's state is asked at most once a second (HealthProbeCostTest): the outage shows within that.
      .compose(v -> h.eventually(() -> h.get(g, "/health").map(r -> "down".equals(
        r.bodyAsJsonObject().getJsonObject("services").getJsonObject("redis").getString("status"))), 5_000))
      .compose(v -> Future.all(h.get(g, "/health"), h.get(g, "/health/ready"), h.get(g, "/health/live"))).map(all -> {
        io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> health = all.resultAt(0);
        io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> ready = all.resultAt(1);
        io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> live = all.resultAt(2);
        assertEquals("down", health.bodyAsJsonObject().getJsonObject("services").getJsonObject("redis").getString("status"));
        assertTrue(health.bodyAsJsonObject().getString("status").matches("degraded|down"));
        // Every instance loses Redis at once in an outage: failing readiness on all of them would empty the balancer and
        // turn "serve the last good copy" into no page at all. An instance holding copies stays ready.
        assertEquals(200, ready.statusCode(), ready.bodyAsString());
        assertEquals(true, ready.bodyAsJsonObject().getBoolean("holdsCopies"), ready.bodyAsString());
        assertEquals("down", ready.bodyAsJsonObject().getJsonObject("services").getJsonObject("redis").getString("status"));
        assertEquals(200, live.statusCode(), "still alive");
        return null;
      }).compose(v -> h.get(g, "/v1/profiles/demo")).map(served -> {
        assertEquals(200, served.statusCode(), "the ready instance serves its copy without Redis");
        return null;
      }))
      // An instance started during the outage holds nothing and can serve nothing (its misses wait for the shared
      // budget): it is not ready.
      .compose(v -> h.gateway(new JsonObject())).compose(fresh -> h.get(fresh, "/health/ready")).map(freshReady -> {
        assertEquals(503, freshReady.statusCode(), freshReady.bodyAsString());
        assertEquals("not_ready", freshReady.bodyAsJsonObject().getString("status"));
        assertEquals(false, freshReady.bodyAsJsonObject().getBoolean("holdsCopies"));
        return null;
      })
      .compose(v -> h.get(prober[0], "/health/ready")).map(proberReady -> {
        assertEquals(503, proberReady.statusCode(), "only a 404 held: " + proberReady.bodyAsString());
        return null;
      })
      .eventually(h::close)
      .eventually(() -> vertx.executeBlocking(() -> {
        redis.stop();
        return null;
      }))
      .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * An upstream that refuses the gateway's token is down for every miss (503 "cannot authenticate"), yet /health
   * said "healthy": the breaker does not count credential refusals. Health now says down, and why.
   */
  /**
   * {@code latencyMs} of the upstream (and of Klaviyo) is the latest call's duration: it was a constant 0, whatever
   * the upstream did.
   */
  @Test
  void healthReportsHowLongTheLatestUpstreamCallTook(Vertx vertx, VertxTestContext ctx) {
    Harness h = new Harness(vertx);
    h.start().compose(v -> h.gateway(new JsonObject()))
      .compose(g -> h.get(g, "/health").map(before -> {
        assertEquals(0L, before.bodyAsJsonObject().getJsonObject("services").getJsonObject("linktree").getLong("latencyMs"),
          "no call yet: " + before.bodyAsString());
        return g;
      }))
      .compose(g -> h.fault(new JsonObject().put("mode", "slow").put("latency_ms", 150))
        .compose(v -> h.get(g, "/v1/profiles/demo"))
        .compose(read -> h.get(g, "/health")))
      .eventually(h::close)
      .onComplete(ctx.succeeding(health -> ctx.verify(() -> {
        long latency = health.bodyAsJsonObject().getJsonObject("services").getJsonObject("linktree").getLong("latencyMs");
        assertTrue(latency >= 150, "the slow call's duration: " + health.bodyAsString());
        ctx.completeNow();
      })));
  }

  @Test
  void healthSaysTheUpstreamIsDownWhileItRefusesTheToken(Vertx vertx, VertxTestContext ctx) {
    Harness h = new Harness(vertx);
    // Said once in the log as well (it used to be in /health and the metrics only: rt12's F8).
    dev.biogate.support.LogCapture said = upstreamLog();
    h.start()
      .compose(v -> h.gateway(new JsonObject().put("linktree", new JsonObject().put("token", "not-the-token"))))
      .compose(g -> h.get(g, "/v1/profiles/demo").compose(refused -> {
        assertEquals(503, refused.statusCode(), refused.bodyAsString());
        return h.get(g, "/v1/profiles/alice");
      }).compose(again -> {
        assertEquals(503, again.statusCode(), again.bodyAsString());
        return h.get(g, "/health");
      }))
      .eventually(() -> {
        said.close();
        return h.close();
      })
      .onComplete(ctx.succeeding(health -> ctx.verify(() -> {
        assertEquals(1, said.lines().stream().filter(l -> l.startsWith("WARN") && l.contains("refused the API token")
          && l.contains("LINKTREE_API_TOKEN")).count(), said.lines().toString());
        JsonObject linktree = health.bodyAsJsonObject().getJsonObject("services").getJsonObject("linktree");
        assertEquals("down", linktree.getString("status"), health.bodyAsString());
        assertEquals(true, linktree.getBoolean("credentialsRefused"), health.bodyAsString());
        assertEquals("degraded", health.bodyAsJsonObject().getString("status"), health.bodyAsString());
        ctx.completeNow();
      })));
  }

  /** An upstream 429 is said once per back-off in the log, with how long the gateway waits (it used to be silent). */
  @Test
  void anUpstreamRateLimitIsLoggedOncePerBackOff(Vertx vertx, VertxTestContext ctx) {
    Harness h = new Harness(vertx);
    dev.biogate.support.LogCapture said = upstreamLog();
    h.start()
      .compose(v -> h.gateway(new JsonObject()))
      .compose(g -> h.fault(new JsonObject().put("mode", "ratelimit").put("retry_after_s", 30))
        .compose(v -> h.get(g, "/v1/profiles/demo"))
        .compose(first -> h.get(g, "/v1/profiles/alice").map(second -> java.util.List.of(first, second))))
      .eventually(() -> {
        said.close();
        return h.close();
      })
      .onComplete(ctx.succeeding(answers -> ctx.verify(() -> {
        assertEquals(503, answers.get(0).statusCode(), answers.get(0).bodyAsString());
        assertEquals(1, said.lines().stream().filter(l -> l.startsWith("WARN") && l.contains("rate-limited")
          && l.contains("30 s")).count(), said.lines().toString());
        ctx.completeNow();
      })));
  }

  /** What the upstream client logs, as "LEVEL message". */
  private static dev.biogate.support.LogCapture upstreamLog() {
    return dev.biogate.support.LogCapture.of(dev.biogate.upstream.LinktreeClient.class,
      e -> e.getLevel() + " " + e.getFormattedMessage());
  }

  @Test
  void preflightPassesAgainstTheSandboxAndFailsOnAWrongToken(Vertx vertx) throws Exception {
    // Preflight blocks its caller (it is a command-line tool), so it runs here on the test thread, not on Vert.x.
    Harness h = new Harness(vertx);
    h.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    JsonObject good = new JsonObject().put("webhooks", new JsonObject()
      .put("linktree", new JsonObject().put("secrets", "whsec_preflight")).put("linkme", new JsonObject().put("secrets", "lm_preflight")));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int failures = new Preflight(vertx, h.config(good), new PrintStream(out, true, StandardCharsets.UTF_8)).run(null);
    String text = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, failures, text);
    assertTrue(text.contains("all checks passed"));
    // An unset Klaviyo webhook secret is told (that endpoint answers 503) without failing the checklist; a set one passes.
    assertTrue(text.contains("[NOTE] KLAVIYO_WEBHOOK_SECRET is not set"), text);
    ByteArrayOutputStream withKlaviyo = new ByteArrayOutputStream();
    JsonObject klaviyo = good.copy();
    klaviyo.getJsonObject("webhooks").put("klaviyo", new JsonObject().put("secrets", "kl_preflight_secret"));
    assertEquals(0, new Preflight(vertx, h.config(klaviyo), new PrintStream(withKlaviyo, true, StandardCharsets.UTF_8)).run(null));
    assertTrue(withKlaviyo.toString(StandardCharsets.UTF_8).contains("[PASS] Klaviyo webhook secret present (1 configured)"),
      withKlaviyo.toString(StandardCharsets.UTF_8));

    BiogateConfig wrong = h.config(good.copy().put("linktree", new JsonObject().put("token", "not-the-token")));
    ByteArrayOutputStream out2 = new ByteArrayOutputStream();
    int failures2 = new Preflight(vertx, wrong, new PrintStream(out2, true, StandardCharsets.UTF_8)).run(null);
    String text2 = out2.toString(StandardCharsets.UTF_8);
    assertEquals(1, failures2, text2);
    assertTrue(text2.contains("[FAIL] API token valid") && text2.contains("401"), text2);
    assertFalse(text2.contains("not-the-token"), "the token is never printed");

    // The command exits non-zero when a check fails: here the wrong token against the same sandbox.
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
      System.getProperty("java.class.path"), "dev.biogate.Main", "preflight").redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("BIOGATE_") || k.startsWith("LINKTREE_") || k.startsWith("LINKME_") || k.equals("REDIS_URL"));
    pb.environment().put("LINKTREE_API_BASE", "http://127.0.0.1:" + h.sandboxPort());
    pb.environment().put("LINKTREE_API_TOKEN", "not-the-token");
    pb.environment().put("REDIS_URL", TestRedis.url());
    pb.environment().put("LINKTREE_WEBHOOK_SECRET", "whsec_preflight");
    pb.environment().put("LINKME_WEBHOOK_SECRET", "lm_preflight");
    Process p = pb.start();
    String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(1, p.exitValue(), printed);
    assertTrue(printed.contains("401"), printed);
    h.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /**
   * README: "preflight checks the same before traffic arrives (the unneeded password as a [NOTE])": a password the
   * server does not require is worth knowing, not a failure, and the password itself is never printed.
   */
  @Test
  void preflightReportsAPasswordTheServerDoesNotRequireAsANote(Vertx vertx) throws Exception {
    Harness h = new Harness(vertx);
    h.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    try {
      JsonObject good = new JsonObject().put("webhooks", new JsonObject()
        .put("linktree", new JsonObject().put("secrets", "whsec_preflight")).put("linkme", new JsonObject().put("secrets", "lm_preflight")));
      String server = TestRedis.url().replaceFirst("^redis://", "");
      ByteArrayOutputStream unneeded = new ByteArrayOutputStream();
      int failures = new Preflight(vertx, h.config(good.copy().put("redis", new JsonObject()
          .put("url", "redis://:an-unneeded-password@" + server))),
        new PrintStream(unneeded, true, StandardCharsets.UTF_8)).run(null);
      String text = unneeded.toString(StandardCharsets.UTF_8);
      assertEquals(0, failures, "a note, not a failure: " + text);
      List<String> notes = text.lines().filter(l -> l.contains("[NOTE] redis credentials:")).toList();
      assertEquals(1, notes.size(), text);
      assertTrue(notes.get(0).contains(server) && notes.get(0).contains("answers without a password"), notes.get(0));
      assertTrue(notes.get(0).contains("redis.url"), "the note names the setting, as the start's warning does: " + notes.get(0));
      assertFalse(text.contains("an-unneeded-password"), "the password is never printed: " + text);

      ByteArrayOutputStream none = new ByteArrayOutputStream();
      new Preflight(vertx, h.config(good), new PrintStream(none, true, StandardCharsets.UTF_8)).run(null);
      String noneText = none.toString(StandardCharsets.UTF_8);
      assertFalse(noneText.contains("[NOTE] redis credentials"), "no note without a password: " + noneText);
    } finally {
      h.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** Preflight fails on a database the server does not have, as the start does (exit 2), naming the URL's setting. */
  @Test
  void preflightFailsOnADatabaseTheServerDoesNotHave(Vertx vertx) throws Exception {
    Harness h = new Harness(vertx);
    h.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    try {
      JsonObject config = new JsonObject().put("webhooks", new JsonObject()
          .put("linktree", new JsonObject().put("secrets", "whsec_preflight")).put("linkme", new JsonObject().put("secrets", "lm_preflight")))
        .put("redis", new JsonObject().put("url", TestRedis.url() + "/99"));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int failures = new Preflight(vertx, h.config(config), new PrintStream(out, true, StandardCharsets.UTF_8)).run(null);
      String text = out.toString(StandardCharsets.UTF_8);
      assertEquals(1, failures, text);
      List<String> failed = text.lines().filter(l -> l.contains("[FAIL] redis database:")).toList();
      assertEquals(1, failed.size(), text);
      assertTrue(failed.get(0).contains("redis.url") && failed.get(0).contains("has no database 99"), failed.get(0));
    } finally {
      h.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /**
   * Preflight fails on an upstream with 20 requests or fewer left in its window, and tells an unreachable upstream
   * (refused, timed out) from one that refuses the token.
   */
  @Test
  void preflightFailsOnLowHeadroomAndTellsNetworkErrorsFromAuthErrors(Vertx vertx) throws Exception {
    Harness h = new Harness(vertx);
    h.start(TestRedis.url(), new JsonObject().put("rateLimitPerMin", 21)).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    try {
      JsonObject good = new JsonObject().put("webhooks", new JsonObject()
        .put("linktree", new JsonObject().put("secrets", "whsec_preflight")).put("linkme", new JsonObject().put("secrets", "lm_preflight")));
      ByteArrayOutputStream low = new ByteArrayOutputStream();
      int lowFailures = new Preflight(vertx, h.config(good), new PrintStream(low, true, StandardCharsets.UTF_8)).run(null);
      String lowText = low.toString(StandardCharsets.UTF_8);
      assertEquals(1, lowFailures, lowText);
      assertTrue(lowText.contains("[FAIL] rate-limit headroom low") && lowText.contains("need > 20"), lowText);
      assertTrue(lowText.contains("[PASS] API token valid"), lowText);

      int closed;
      try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
        closed = s.getLocalPort();
      }
      BiogateConfig nowhere = h.config(good.copy().put("linktree", new JsonObject().put("apiBase", "http://127.0.0.1:" + closed)));
      ByteArrayOutputStream refused = new ByteArrayOutputStream();
      new Preflight(vertx, nowhere, new PrintStream(refused, true, StandardCharsets.UTF_8)).run(null);
      String refusedText = refused.toString(StandardCharsets.UTF_8);
      assertTrue(refusedText.contains("connection refused") && !refusedText.contains("401"), refusedText);
      assertEquals("timed out after " + Preflight.TIMEOUT_MS + " ms (network problem, not an auth error)",
        Preflight.describe(new RuntimeException(new java.util.concurrent.TimeoutException("The timeout period of 5000ms has been exceeded"))));
    } finally {
      h.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /**
   * A standalone server named as a Cluster: preflight printed only "redis unreachable: RedisConnectException",
   * naming neither the endpoint nor the cause, although the server answered. It now says what the endpoint is; and
   * against a real Cluster it checks what the design relies on: the cluster's state and every slot served.
   */
  @Test
  void preflightNamesARedisOfTheWrongTypeAndChecksAClustersState(Vertx vertx) throws Exception {
    Harness h = new Harness(vertx);
    h.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    try {
      JsonObject good = new JsonObject().put("webhooks", new JsonObject()
        .put("linktree", new JsonObject().put("secrets", "whsec_preflight")).put("linkme", new JsonObject().put("secrets", "lm_preflight")));
      String standalone = TestRedis.url();
      ByteArrayOutputStream wrong = new ByteArrayOutputStream();
      int wrongFailures = new Preflight(vertx, h.config(good.copy().put("redis", new JsonObject().put("type", "cluster").put("url", standalone))),
        new PrintStream(wrong, true, StandardCharsets.UTF_8)).run(null);
      String wrongText = wrong.toString(StandardCharsets.UTF_8);
      assertEquals(1, wrongFailures, wrongText);
      assertTrue(wrongText.contains("[FAIL] redis type cluster: " + standalone.replace("redis://", "") + " is a standalone Redis server"),
        wrongText);
      assertFalse(wrongText.contains("unreachable"), wrongText);

      ByteArrayOutputStream cluster = new ByteArrayOutputStream();
      JsonObject clusterRedis = dev.biogate.support.TestCluster.get().redisConfig();
      int clusterFailures = new Preflight(vertx, h.config(good.copy().put("redis", clusterRedis.copy().put("url", (String) null))),
        new PrintStream(cluster, true, StandardCharsets.UTF_8)).run(null);
      String clusterText = cluster.toString(StandardCharsets.UTF_8);
      assertEquals(0, clusterFailures, clusterText);
      assertTrue(clusterText.contains("[PASS] redis cluster state ok (16384 of 16384 slots assigned, 3 masters)"), clusterText);
    } finally {
      h.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** The webhook-URL check tells a wrong path (404) from the webhook endpoint (405: it serves POST only). */
  @Test
  void preflightWebhookUrlCheckFailsOnAPathTheGatewayDoesNotServe(Vertx vertx) throws Exception {
    Harness h = new Harness(vertx);
    JsonObject good = new JsonObject().put("webhooks", new JsonObject()
      .put("linktree", new JsonObject().put("secrets", "whsec_preflight")).put("linkme", new JsonObject().put("secrets", "lm_preflight")));
    dev.biogate.Gateway g = h.start().compose(x -> h.gateway(good)).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    try {
      ByteArrayOutputStream right = new ByteArrayOutputStream();
      int ok = new Preflight(vertx, h.config(good), new PrintStream(right, true, StandardCharsets.UTF_8))
        .run("http://127.0.0.1:" + g.port() + "/webhooks/linktree");
      String rightText = right.toString(StandardCharsets.UTF_8);
      assertEquals(0, ok, rightText);
      assertTrue(rightText.contains("[PASS] webhook endpoint reachable"), rightText);
      ByteArrayOutputStream wrong = new ByteArrayOutputStream();
      int failed = new Preflight(vertx, h.config(good), new PrintStream(wrong, true, StandardCharsets.UTF_8))
        .run("http://127.0.0.1:" + g.port() + "/not/here");
      String wrongText = wrong.toString(StandardCharsets.UTF_8);
      assertEquals(1, failed, wrongText);
      assertTrue(wrongText.contains("[FAIL] webhook endpoint reachable") && wrongText.contains("404"), wrongText);
    } finally {
      h.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }
}
