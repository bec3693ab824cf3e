package dev.biogate.analytics;

import dev.biogate.support.Eventually;
import dev.biogate.Gateway;
import dev.biogate.support.Harness;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.time.Instant;
import java.util.function.Supplier;

/** Shared test vocabulary for clicks: gateway config, admin calls, analytics queries, polling. */
public final class Clicks {

  public static final String ADMIN = "admin-token-for-tests-0123456789";

  private Clicks() {
  }

  /** Gateway overrides: admin token, this journal, and short timers so outages and claims resolve quickly. */
  public static JsonObject config(Path journal) {
    return new JsonObject()
      .put("admin", new JsonObject().put("token", ADMIN))
      .put("analytics", new JsonObject()
        .put("journal", new JsonObject().put("path", journal.toString()))
        .put("redisTimeoutMs", 500).put("probeMs", 100).put("pollMs", 20)
        .put("claimIdleMs", 1_000).put("claimIntervalMs", 300));
  }

  /** Issues an analytics key for {@code username} through the admin API. */
  public static Future<String> issueKey(Harness h, Gateway g, String username) {
    return h.send(HttpMethod.POST, g, "/admin/creators/" + username + "/keys", ADMIN).compose(r -> r.statusCode() == 201
      ? Future.succeededFuture(r.bodyAsJsonObject().getString("key"))
      : Future.failedFuture("key not issued: " + r.statusCode() + " " + r.bodyAsString()));
  }

  public static String clicksPath(String username, long fromMs, long toMs, String granularity) {
    return "/v1/analytics/" + username + "/clicks?from=" + Instant.ofEpochMilli(fromMs) + "&to=" + Instant.ofEpochMilli(toMs)
      + "&granularity=" + granularity;
  }

  /** The analytics answer for the range, failing unless it is a 200. */
  public static Future<JsonObject> query(Harness h, Gateway g, String key, String username, long fromMs, long toMs, String granularity) {
    return h.send(HttpMethod.GET, g, clicksPath(username, fromMs, toMs, granularity), key).compose(r -> r.statusCode() == 200
      ? Future.succeededFuture(r.bodyAsJsonObject())
      : Future.failedFuture("analytics query failed: " + r.statusCode() + " " + r.bodyAsString()));
  }

  /** See {@link Eventually}. */
  public static Future<Void> eventually(Vertx vertx, Supplier<Future<Boolean>> check, long timeoutMs, String what) {
    return Eventually.until(vertx, check, timeoutMs, what);
  }
}
