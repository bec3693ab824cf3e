package dev.biogate.webhook;

import dev.biogate.support.Sharded;
import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.Harness;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

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

/** At-least-once delivery in, exactly-once handling out: duplicates and two instances sharing one Redis. */
@ExtendWith(VertxExtension.class)
class ExactlyOnceTest {

  private static final int UNIQUE = 700;
  private static final int DUPLICATES = 300;

  private Harness h;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    h.start().onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void twoInstancesHandleEachOf1000DeliveriesWith30PercentDuplicatesExactlyOnce(VertxTestContext ctx) {
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

    h.gateway(cfg).compose(a -> h.gateway(cfg).compose(b -> {
      List<Future<HttpResponse<Buffer>>> answers = new ArrayList<>();
      for (Sent s : all) {
        answers.add(h.post(random.nextBoolean() ? a : b, s.path, s.headers(), s.body));
      }
      return Future.all(answers).compose(done -> {
        int received = 0;
        int duplicate = 0;
        for (int i = 0; i < answers.size(); i++) {
          HttpResponse<Buffer> r = done.resultAt(i);
          assertEquals(200, r.statusCode(), r.bodyAsString());
          received += r.bodyAsJsonObject().getBoolean("received", false) ? 1 : 0;
          duplicate += r.bodyAsJsonObject().getBoolean("duplicate", false) ? 1 : 0;
        }
        assertEquals(UNIQUE, received, "each distinct delivery accepted once");
        assertEquals(DUPLICATES, duplicate);
        return h.eventually(() -> Future.succeededFuture(handled(a, b) >= UNIQUE && clicksCounted(a, b) >= UNIQUE / 2), 20_000);
      })
        // Let any stray second handling surface before counting.
        .compose(v -> h.vertx.timer(500))
        .compose(v -> Future.all(
          Sharded.entries(h::redis, RedisKeys::clicksShard),
          Sharded.xlen(h::redis, RedisKeys::eventsShard),
          Sharded.pending(h::redis, RedisKeys::eventsShard, RedisKeys.EVENTS_GROUP)))
        .map(redis -> {
          assertEquals(UNIQUE, handled(a, b), "every distinct delivery handled exactly once across both instances");
          assertTrue(a.eventStats().handled() > 0 && b.eventStats().handled() > 0, "both instances consumed");
          List<Response> clicks = redis.resultAt(0);
          Set<String> eventIds = new HashSet<>();
          for (Response entry : clicks) {
            Map<String, String> f = new HashMap<>();
            Response fields = entry.get(1);
            for (int i = 0; i < fields.size(); i += 2) {
              f.put(fields.get(i).toString(), fields.get(i + 1).toString());
            }
            assertEquals("linkme", f.get("source"));
            eventIds.add(f.get("event_id"));
          }
          // Counted clicks leave their shard once every group has finished them (trimmed): what is left holds no
          // event twice, and the counters counted each distinct LinkMe event exactly once.
          assertEquals(clicks.size(), eventIds.size(), "no click event appended twice");
          assertEquals(UNIQUE / 2, clicksCounted(a, b), "one click recorded per distinct LinkMe event");
          assertEquals(0L, redis.<Long>resultAt(1), "handled entries leave the stream");
          assertEquals(0L, redis.<Long>resultAt(2), "nothing left pending");
          return null;
        });
    })).onComplete(ctx.succeedingThenComplete());
  }

  private static long clicksCounted(Gateway a, Gateway b) {
    return a.clickCounter().counted() + a.clickCounter().unattributed() + b.clickCounter().counted() + b.clickCounter().unattributed();
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

    private Sent(String path, String deliveryId, Buffer body, long timestamp) {
      this.path = path;
      this.deliveryId = deliveryId;
      this.body = body;
      this.timestamp = timestamp;
    }

    static Sent linkme(String id) {
      return new Sent("/webhooks/linkme", null, Deliveries.click(id, "link-" + id), 0);
    }

    static Sent linktree(String deliveryId, int i) {
      // Events the gateway handles without outside effects: a milestone with no destination, an unknown type.
      Buffer body = i % 4 == 1
        ? Deliveries.linktreeEvent("analytics.milestone", new JsonObject().put("link_id", "l" + i).put("metric", "clicks")
          .put("value", i).put("threshold", i))
        : Deliveries.linktreeEvent("link.reordered", new JsonObject().put("link_id", "l" + i));
      return new Sent("/webhooks/linktree", deliveryId, body, Deliveries.nowSeconds());
    }

    /** Linktree retries re-sign with a new timestamp under the same delivery id; LinkMe resends the same bytes. */
    Sent redelivery() {
      return new Sent(path, deliveryId, body, timestamp + 1);
    }

    MultiMap headers() {
      return deliveryId == null ? Deliveries.linkme(body) : Deliveries.linktree(deliveryId, body, timestamp);
    }
  }
}
