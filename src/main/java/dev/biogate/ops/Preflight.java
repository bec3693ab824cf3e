package dev.biogate.ops;

import dev.biogate.config.BiogateConfig;
import dev.biogate.config.RedisConfig;
import dev.biogate.http.OutboundCalls;
import dev.biogate.redis.RedisClients;
import dev.biogate.redis.RedisMode;
import dev.biogate.redis.RedisPersistence;
import dev.biogate.redis.SentinelGroup;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code java -jar biogate.jar preflight}: validates a deployment before traffic arrives, following the providers'
 * production checklists. Prints one line per check and returns the number of failed checks (the exit status is
 * non-zero when any failed). Nothing secret is printed.
 */
public final class Preflight {

  static final long TIMEOUT_MS = 5_000;
  static final int MIN_HEADROOM = 20;

  private final Vertx vertx;
  private final BiogateConfig config;
  private final PrintStream out;
  private final WebClient http;
  private final List<String> failures = new ArrayList<>();

  public Preflight(Vertx vertx, BiogateConfig config, PrintStream out) {
    this.vertx = vertx;
    this.config = config;
    this.out = out;
    this.http = OutboundCalls.client(vertx, OutboundCalls.clientOptions(TIMEOUT_MS), new io.vertx.core.http.PoolOptions());
  }

  /** Runs every check (blocking the calling thread, which must not be an event loop); returns the failures. */
  public int run(String webhookUrl) {
    out.println("biogate preflight");
    pass("configuration is valid");
    String base = config.linktree().apiBase();
    if (base == null) {
      fail("LINKTREE_API_BASE is not set: the gateway would use its in-process sandbox");
    } else {
      upstream(base);
    }
    redis();
    secrets();
    klaviyo();
    if (webhookUrl != null && !webhookUrl.isBlank()) {
      webhookEndpoint(webhookUrl.trim());
    }
    out.println(failures.isEmpty() ? "all checks passed" : failures.size() + " check(s) failed");
    http.close();
    return failures.size();
  }

  private void upstream(String base) {
    String token = config.linktree().token() == null ? null : "Bearer " + config.linktree().token().reveal();
    // With the token: an upstream that authenticates every path answers /health 401 without it.
    outcome(get(base + "/health", token), "upstream reachable (GET /health)", r -> r.statusCode() == 200,
      r -> r.statusCode() == 401 || r.statusCode() == 403 ? r.statusCode() + ": the upstream refused the token on /health"
        : "unexpected status " + r.statusCode());
    if (token == null) {
      fail("LINKTREE_API_TOKEN is not set");
      return;
    }
    HttpResponse<Buffer> me = outcome(get(base + "/me", token), "API token valid (GET /me)", r -> r.statusCode() == 200,
      r -> r.statusCode() == 401 ? "401: the token is invalid or revoked"
        : r.statusCode() == 403 ? "403: the token lacks the permissions biogate needs" : "unexpected status " + r.statusCode());
    if (me != null) {
      String remaining = me.getHeader("X-RateLimit-Remaining");
      if (remaining == null) {
        fail("rate-limit headroom: upstream sent no X-RateLimit-Remaining");
      } else if (!remaining.trim().matches("[0-9]{1,9}")) {
        fail("rate-limit headroom: upstream sent an X-RateLimit-Remaining that is not a whole number");
      } else if (Integer.parseInt(remaining.trim()) > MIN_HEADROOM) {
        pass("rate-limit headroom: " + remaining.trim() + " requests left in the window");
      } else {
        fail("rate-limit headroom low: " + remaining.trim() + " left (need > " + MIN_HEADROOM + ")");
      }
    }
  }

  private void redis() {
    if (config.redis().embedded()) {
      fail("REDIS_URL is not set: instances would each start a private Redis and share nothing");
      return;
    }
    String type = config.redis().type().name().toLowerCase();
    String mismatch = RedisMode.mismatch(vertx, config.redis()).await();
    if (mismatch != null) {
      fail("redis type " + type + ": " + mismatch);
      return;
    }
    String refused = RedisMode.refusedCredentials(vertx, config.redis()).await();
    if (refused != null) {
      fail("redis credentials: " + refused);
      return;
    }
    String missing = RedisMode.missingDatabase(vertx, config.redis()).await();
    if (missing != null) {
      fail("redis database: " + RedisMode.databaseSetting(config) + ": " + missing);
      return;
    }
    String unneeded = RedisMode.unneededPassword(vertx, config.redis()).await();
    if (unneeded != null) {
      note("redis credentials: " + RedisMode.passwordSetting(config) + ": " + unneeded);
    }
    if (config.redis().type() == RedisConfig.Type.SENTINEL) {
      SentinelGroup group = new SentinelGroup(vertx, config.redis());
      try {
        if (!group.knowsMaster().await()) {
          // As the start says it: "unreachable" (the data client's failure) sent the operator after the network.
          fail(config.settingName("redis.masterName") + ": no Sentinel of the configured endpoints knows a master named '"
            + config.redis().masterName() + "'");
          return;
        }
      } finally {
        group.close();
      }
    }
    Redis client = Redis.createClient(vertx, RedisClients.options(config.redis()));
    try {
      client.send(Request.cmd(Command.PING)).timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS).await();
      pass("redis answers PING (" + type + ")");
      if (config.redis().type() == RedisConfig.Type.CLUSTER) {
        cluster(client);
      }
    } catch (Exception e) {
      fail("redis " + type + " " + config.redis().toJson().getJsonArray("endpoints").encode() + " unreachable: " + describe(e, true));
    } finally {
      client.close();
    }
  }

  /** What the Cluster design relies on (docs/scaling.md): every slot served; a dead master failing only its own slots. */
  private void cluster(Redis client) {
    String info = client.send(Request.cmd(Command.CLUSTER).arg("INFO")).timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS).await().toString();
    String state = RedisMode.field(info, "cluster_state");
    String assigned = RedisMode.field(info, "cluster_slots_assigned");
    if ("ok".equals(state)) {
      pass("redis cluster state ok (" + assigned + " of 16384 slots assigned, " + RedisMode.field(info, "cluster_size") + " masters)");
    } else {
      fail("redis cluster state " + state + " (" + assigned + " of 16384 slots assigned): the gateway cannot use unserved slots");
    }
    try {
      String value = RedisPersistence.config(client, "cluster-require-full-coverage").await();
      if ("yes".equalsIgnoreCase(value)) {
        note("cluster-require-full-coverage is yes: while one master is down the whole cluster refuses commands (no recommends)");
      }
    } catch (Exception e) {
      // Managed services often refuse CONFIG: not judged.
    }
  }

  private void secrets() {
    if (config.webhooks().linktreeSecrets().isEmpty()) {
      fail("LINKTREE_WEBHOOK_SECRET is not set: /webhooks/linktree would answer 503");
    } else {
      pass("Linktree webhook secret present (" + config.webhooks().linktreeSecrets().size() + " configured)");
    }
    if (!config.webhooks().linkmeEnabled()) {
      pass("LinkMe webhooks switched off by configuration");
    } else if (config.webhooks().linkmeSecrets().isEmpty()) {
      fail("LINKME_WEBHOOK_SECRET is not set: /webhooks/linkme would answer 503");
    } else {
      pass("LinkMe webhook secret present (" + config.webhooks().linkmeSecrets().size() + " configured)");
    }
    if (config.webhooks().klaviyoSecrets().isEmpty()) {
      note("KLAVIYO_WEBHOOK_SECRET is not set: /webhooks/klaviyo answers 503 (set it to receive Klaviyo system webhooks)");
    } else {
      pass("Klaviyo webhook secret present (" + config.webhooks().klaviyoSecrets().size() + " configured)");
    }
    if (config.admin().token() == null) {
      pass("admin API disabled (no BIOGATE_ADMIN_TOKEN)");
    } else {
      pass("admin token present");
    }
  }

  private void klaviyo() {
    var k = config.klaviyo();
    if (!k.enabled()) {
      pass("Klaviyo sink disabled");
      return;
    }
    if (k.privateKey() == null) {
      fail("KLAVIYO_ENABLED is true but KLAVIYO_PRIVATE_KEY is not set");
      return;
    }
    String key = k.privateKey().reveal();
    String base = k.apiBase().replaceAll("/+$", "");
    Future<HttpResponse<Buffer>> accounts = http.getAbs(base + "/api/accounts/").as(OutboundCalls.BOUNDED_BODY)
      .putHeader("Authorization", "Klaviyo-API-Key " + key).putHeader("revision", k.revision())
      .putHeader("Accept", "application/vnd.api+json").timeout(TIMEOUT_MS).send();
    outcome(accounts, "Klaviyo key valid (GET /api/accounts/)", r -> r.statusCode() == 200,
      r -> r.statusCode() == 401 || r.statusCode() == 403 ? r.statusCode() + ": the key is invalid or lacks scopes" : "unexpected status " + r.statusCode());
  }

  private void webhookEndpoint(String url) {
    Future<HttpResponse<Buffer>> head = http.requestAbs(HttpMethod.HEAD, url).as(OutboundCalls.BOUNDED_BODY).timeout(TIMEOUT_MS).send();
    // The endpoint serves POST only: 405 (or an auth answer from a proxy in front) means the path exists, 404 not.
    outcome(head, "webhook endpoint reachable (HEAD " + url.replaceAll("\\?.*$", "") + ")",
      r -> r.statusCode() < 500 && r.statusCode() != 404,
      r -> r.statusCode() == 404 ? "404: nothing is served at this path (it should end in /webhooks/linktree)" : "status " + r.statusCode());
  }

  private Future<HttpResponse<Buffer>> get(String url, String authorization) {
    var req = http.getAbs(url).as(OutboundCalls.BOUNDED_BODY).putHeader("Accept", "application/json").timeout(TIMEOUT_MS);
    if (authorization != null) {
      req.putHeader("Authorization", authorization);
    }
    return req.send();
  }

  private HttpResponse<Buffer> outcome(Future<HttpResponse<Buffer>> f, String what, java.util.function.Predicate<HttpResponse<Buffer>> ok,
                                       java.util.function.Function<HttpResponse<Buffer>, String> why) {
    long start = System.nanoTime();
    try {
      HttpResponse<Buffer> r = f.await();
      long ms = (System.nanoTime() - start) / 1_000_000;
      if (ok.test(r)) {
        pass(what + " - " + r.statusCode() + " in " + ms + " ms");
        return r;
      }
      fail(what + " - " + (why == null ? "status " + r.statusCode() : why.apply(r)));
    } catch (Exception e) {
      fail(what + " - " + describe(e));
    }
    return null;
  }

  /** Timeouts are told apart from refusals and from auth errors. */
  static String describe(Throwable e) {
    return describe(e, false);
  }

  /** Like {@link #describe(Throwable)}; with {@code detail}, a failure that is neither names its cause's message. */
  static String describe(Throwable e, boolean detail) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    String m = String.valueOf(c.getMessage()).toLowerCase();
    if (c instanceof TimeoutException || m.contains("timeout") || m.contains("timed out")) {
      return "timed out after " + TIMEOUT_MS + " ms (network problem, not an auth error)";
    }
    if (m.contains("refused")) {
      return "connection refused";
    }
    // Connection errors may quote an endpoint URL: never its credentials.
    String message = c.getMessage() == null ? null : c.getMessage().replaceAll("//[^@/\\s]*@", "//****@");
    return detail && message != null && !message.isBlank()
      ? c.getClass().getSimpleName() + ": " + (message.length() > 200 ? message.substring(0, 200) + "…" : message)
      : c.getClass().getSimpleName();
  }

  /** Worth knowing, not a failure. */
  private void note(String line) {
    out.println("  [NOTE] " + line);
  }

  private void pass(String line) {
    out.println("  [PASS] " + line);
  }

  private void fail(String line) {
    failures.add(line);
    out.println("  [FAIL] " + line);
  }
}
