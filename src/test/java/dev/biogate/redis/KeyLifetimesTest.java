package dev.biogate.redis;

import dev.biogate.Gateway;
import dev.biogate.analytics.Clicks;
import dev.biogate.support.HarnessTest;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static io.vertx.redis.client.Command.PTTL;
import static io.vertx.redis.client.Command.SCAN;
import static io.vertx.redis.client.Command.TYPE;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Redis runs with {@code noeviction} (dedupe markers and streams must never be evicted), so nothing else may grow
 * without bound: every key the gateway writes expires, except the streams (bounded by their ceilings) and two
 * single records. After a mixed workload (profile hits and a miss, a counted click, a Linktree delivery and two LinkMe
 * clicks, one on a link nobody owns, handled), every key is checked: an audit found the link-owner index, one hash per
 * shard holding every link id of every profile ever cached, kept forever, and a re-drill the unattributed clicks' hash,
 * a field for every unknown link id ever clicked.
 */
class KeyLifetimesTest extends HarnessTest {

  private static final long DAY_MS = 86_400_000L;
  /**
   * Keys that may live without a TTL: single records of a few bytes, and the Klaviyo topics (a field per topic the
   * provider names). Creators' API keys (issued and revoked by operators) are the other lasting family.
   */
  private static final Set<String> LASTING = Set.of(RedisKeys.CLICK_FINGERPRINT_SECRET, RedisKeys.WEBHOOK_SHARDS,
    RedisKeys.KLAVIYO_TOPICS);

  @TempDir
  Path dir;

  @Test
  void everyKeyExpiresButTheStreamsAndTwoRecords(Vertx vertx, VertxTestContext ctx) {
    JsonObject cfg = Clicks.config(dir.resolve("clicks.journal"));
    Deliveries.config().forEach(e -> cfg.put(e.getKey(), e.getValue()));
    Buffer updated = Deliveries.linktreeEvent("profile.updated", new JsonObject().put("username", "demo").put("bio", "new"));
    Buffer click = Deliveries.click("lm-keys-1", "lnk_demo_01");
    Buffer unknown = Deliveries.click("lm-keys-2", "lnk_nobody_has_01");
    h.gateway(cfg).compose(g -> h.get(g, "/v1/profiles/demo").compose(r -> h.get(g, "/v1/profiles/demo"))
      .compose(r -> h.get(g, "/v1/profiles/nobody-here"))
      .compose(r -> h.http.get(g.port(), "127.0.0.1", "/r/demo/lnk_demo_03").followRedirects(false)
        .putHeader("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0").send())
      .compose(r -> h.post(g, "/webhooks/linktree", Deliveries.linktree("lt-keys-1", updated), updated))
      .compose(r -> h.post(g, "/webhooks/linkme", Deliveries.linkme(click), click))
      .compose(r -> h.post(g, "/webhooks/linkme", Deliveries.linkme(unknown), unknown))
      .compose(r -> h.eventually(() -> handled(g, "lt-keys-1").compose(a -> handled(g, "lm-keys-1").map(b -> a && b)), 10_000))
      .compose(v -> h.eventually(() -> Future.succeededFuture(g.clickCounter().unattributed() == 1), 10_000))
      .compose(v -> h.eventually(() -> keys().map(k -> k.keySet().stream().anyMatch(n -> n.startsWith("bg:an:{demo}:seen:r-"))), 10_000))
      .compose(v -> keys()))
      .onComplete(ctx.succeeding(keys -> ctx.verify(() -> {
        List<String> wrong = new ArrayList<>();
        keys.forEach((key, typeAndTtl) -> {
          String type = typeAndTtl.split(" ")[0];
          long ttl = Long.parseLong(typeAndTtl.split(" ")[1]);
          if (ttl == -1 && !"stream".equals(type) && !LASTING.contains(key) && !key.startsWith("bg:keys:{bg}:")) {
            wrong.add(key + " (" + type + ") never expires");
          }
          if (key.contains(":dedupe:") || key.contains(":delivery:") || key.startsWith("bg:wh:route:")) {
            if (ttl <= 7 * DAY_MS - 60_000 || ttl > 7 * DAY_MS) {
              wrong.add(key + " lives " + ttl + " ms, not the 7-day dedupe window");
            }
          } else if (key.contains(":seen:") && (ttl <= 0 || ttl > DAY_MS)) {
            // A marker per counted click: for a week, one client address following links at its redirect rate left
            // 3 million of them (~360 MB) under noeviction.
            wrong.add(key + " lives " + ttl + " ms, more than the 1-day click dedupe window");
          } else if (key.startsWith("bg:known:") && (ttl <= 0 || ttl > 30 * DAY_MS)) {
            wrong.add(key + " lives " + ttl + " ms, more than 30 days");
          } else if (key.startsWith("bg:profile:{") && (ttl <= 0 || ttl > 5 * DAY_MS)) {
            wrong.add(key + " lives " + ttl + " ms, more than a copy's retention (and the change times' 96 h)");
          }
        });
        assertTrue(keys.keySet().stream().anyMatch(k -> k.contains(":dedupe:linktree:id:lt-keys-1")), "the workload ran: " + keys.keySet());
        assertTrue(keys.keySet().stream().anyMatch(k -> k.startsWith("bg:link-owners:")), "links indexed: " + keys.keySet());
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
        ctx.completeNow();
      })));
  }

  private Future<Boolean> handled(Gateway g, String deliveryId) {
    return h.send(io.vertx.core.http.HttpMethod.GET, g, "/admin/deliveries/" + deliveryId, Deliveries.ADMIN_TOKEN)
      .map(r -> r.statusCode() == 200 && "handled".equals(r.bodyAsJsonObject().getString("outcome")));
  }

  private Future<Map<String, String>> keys() {
    Map<String, String> out = new TreeMap<>();
    return scan("0", out).map(out);
  }

  private Future<Void> scan(String cursor, Map<String, String> out) {
    return h.redis(Request.cmd(SCAN).arg(cursor).arg("COUNT").arg(1000)).compose(r -> {
      List<Future<?>> each = new ArrayList<>();
      for (Response k : r.get(1)) {
        String key = k.toString();
        each.add(h.redis(Request.cmd(TYPE).arg(key)).compose(t -> h.redis(Request.cmd(PTTL).arg(key))
          .map(ttl -> out.put(key, t.toString() + " " + ttl.toLong()))));
      }
      String next = r.get(0).toString();
      return Future.all(each).compose(v -> "0".equals(next) ? Future.<Void>succeededFuture() : scan(next, out));
    });
  }
}
