package dev.biogate.webhook;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.Harness;
import dev.biogate.support.Topology;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * At-least-once delivery in, exactly-once handling out: duplicates and two instances sharing one Redis, on every
 * deployment the gateway supports (standalone, Cluster 3+3, Sentinel).
 */
@ExtendWith(VertxExtension.class)
class ExactlyOnceTest {

  private static final int UNIQUE = 700;
  private static final int DUPLICATES = 300;
  private static final int WAVE = 100;

  private Harness h;

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().onComplete(ctx.succeedingThenComplete());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Topology.class)
  void twoInstancesHandleEachOf1000DeliveriesWith30PercentDuplicatesExactlyOnce(Topology topology, Vertx vertx,
                                                                                 VertxTestContext ctx) {
    h = new Harness(vertx);
    Random random = new Random(42);
    List<Sent> unique = new ArrayList<>();
    for (int i = 0; i < UNIQUE; i++) {
      unique.add(i % 2 == 0 ? Sent.linkme("evt-" + i) : Sent.linktree("dlv-" + i, i));
    }
    List<Sent> all = new ArrayList<>(unique);
    for (int i = 0; i < DUPLICATES; i++) {
      all.add(unique.get(random.nextInt(UNIQUE)).redelivery());
    }
    Collections.shuffle(all, random);
    JsonObject cfg = Deliveries.config().put("webhooks", Deliveries.webhooks().put("claimIdleMs", 2_000));

    h.start(topology).compose(x -> h.gateway(cfg)).compose(a -> h.gateway(cfg).compose(b -> {
      // Waves of 100 concurrent deliveries: the point is duplicates racing across two instances, not a load test
      // (1,000 at once on a cold JVM can outlast the Redis call timeout and be answered 503).
      List<HttpResponse<Buffer>> answers = new ArrayList<>();
      Future<Void> sent = Future.succeededFuture();
      for (int from = 0; from < all.size(); from += WAVE) {
        List<Sent> wave = all.subList(from, Math.min(all.size(), from + WAVE));
        sent = sent.compose(v -> {
          List<Future<HttpResponse<Buffer>>> posts = new ArrayList<>();
          for (Sent s : wave) {
            posts.add(h.post(random.nextBoolean() ? a : b, s.path, s.headers(), s.body));
          }
          return Future.all(posts).map(done -> {
            posts.forEach(f -> answers.add(f.result()));
            return null;
          });
        });
      }
      return sent.compose(done -> {
        int received = 0;
        int duplicate = 0;
        for (int i = 0; i < answers.size(); i++) {
          HttpResponse<Buffer> r = answers.get(i);
          assertEquals(200, r.statusCode(), r.bodyAsString());
          received += r.bodyAsJsonObject().getBoolean("received", false) ? 1 : 0;
          duplicate += r.bodyAsJsonObject().getBoolean("duplicate", false) ? 1 : 0;
        }
        assertEquals(UNIQUE, received, "each distinct delivery accepted once");
        assertEquals(DUPLICATES, duplicate);
        return h.eventually(() -> Future.succeededFuture(handled(a, b) >= UNIQUE), 20_000);
      })
        // Let any stray second handling surface before counting.
        .compose(v -> h.vertx.timer(500))
        // Each LinkMe click also reaches the click counters once: the clicks stream is trimmed once counted, so
        // the counters (link id -> count, no creator holds these links) are what is left to check.
        .compose(v -> h.eventually(() -> unattributed().map(c -> c.size() >= UNIQUE / 2), 20_000))
        .compose(v -> Future.all(unattributed(),
          h.redis(Request.cmd(Command.XLEN).arg(RedisKeys.EVENTS_STREAM)),
          h.redis(Request.cmd(Command.XPENDING).arg(RedisKeys.EVENTS_STREAM).arg(RedisKeys.EVENTS_GROUP))))
        .map(redis -> {
          assertEquals(UNIQUE, handled(a, b), "every distinct delivery handled exactly once across both instances");
          assertTrue(a.eventStats().handled() > 0 && b.eventStats().handled() > 0, "both instances consumed");
          Map<String, String> counts = redis.resultAt(0);
          Set<String> expected = new HashSet<>();
          for (Sent s : unique) {
            if (s.deliveryId == null) {
              expected.add(s.linkId);
            }
          }
          assertEquals(expected, counts.keySet(), "one click recorded per distinct LinkMe event");
          counts.forEach((link, n) -> assertEquals("1", n, "clicks counted for " + link));
          assertEquals(0L, redis.<Response>resultAt(1).toLong(), "handled entries leave the stream");
          assertEquals(0L, redis.<Response>resultAt(2).get(0).toLong(), "nothing left pending");
          return null;
        });
    })).onComplete(ctx.succeedingThenComplete());
  }

  /** The unattributed click counters: link id -> count. */
  private Future<Map<String, String>> unattributed() {
    return h.redis(Request.cmd(Command.HGETALL).arg(RedisKeys.CLICKS_UNATTRIBUTED)).map(r -> {
      Map<String, String> m = new HashMap<>();
      for (String k : r.getKeys()) {
        m.put(k, r.get(k).toString());
      }
      return m;
    });
  }

  private static long handled(Gateway a, Gateway b) {
    return a.eventStats().handled() + b.eventStats().handled();
  }

  /** One delivery as sent; a redelivery is the provider's retry of it. */
  private static final class Sent {
    final String path;
    final String deliveryId;
    final Buffer body;
    final long timestamp;
    final String linkId;

    private Sent(String path, String deliveryId, Buffer body, long timestamp, String linkId) {
      this.linkId = linkId;
      this.path = path;
      this.deliveryId = deliveryId;
      this.body = body;
      this.timestamp = timestamp;
    }

    static Sent linkme(String id) {
      return new Sent("/webhooks/linkme", null, Deliveries.click(id, "link-" + id), 0, "link-" + id);
    }

    static Sent linktree(String deliveryId, int i) {
      // Events the gateway handles without outside effects: a milestone with no alert sink, an unknown type.
      Buffer body = i % 4 == 1
        ? Deliveries.linktreeEvent("analytics.milestone", new JsonObject().put("link_id", "l" + i).put("metric", "clicks")
          .put("value", i).put("threshold", i))
        : Deliveries.linktreeEvent("link.reordered", new JsonObject().put("link_id", "l" + i));
      return new Sent("/webhooks/linktree", deliveryId, body, Deliveries.nowSeconds(), null);
    }

    /** Linktree retries re-sign with a new timestamp under the same delivery id; LinkMe resends the same bytes. */
    Sent redelivery() {
      return new Sent(path, deliveryId, body, timestamp + 1, linkId);
    }

    MultiMap headers() {
      return deliveryId == null ? Deliveries.linkme(body) : Deliveries.linktree(deliveryId, body, timestamp);
    }
  }
}
