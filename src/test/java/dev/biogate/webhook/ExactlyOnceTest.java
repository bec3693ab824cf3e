package dev.biogate.webhook;

import dev.biogate.support.HarnessTest;
import dev.biogate.support.Sharded;
import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.webhook.DeliveryMix.Sent;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** At-least-once delivery in, exactly-once handling out: duplicates and two instances sharing one Redis. */
class ExactlyOnceTest extends HarnessTest {

  private static final int UNIQUE = 700;
  private static final int DUPLICATES = 300;

  @Test
  void twoInstancesHandleEachOf1000DeliveriesWith30PercentDuplicatesExactlyOnce(VertxTestContext ctx) {
    Random random = new Random(42);
    // Events the gateway handles without outside effects: a milestone with no destination, an unknown type.
    List<Sent> all = DeliveryMix.of(random, "", UNIQUE, DUPLICATES,
      i -> i % 4 == 1 ? Deliveries.milestone("l" + i, i) : DeliveryMix.reordered(i));
    JsonObject cfg = Deliveries.config().put("webhooks", Deliveries.webhooks().put("claimIdleMs", 2_000));

    h.gateway(cfg).compose(a -> h.gateway(cfg).compose(b -> {
      return DeliveryMix.sendAll(h, random, all, UNIQUE, a, b)
        .compose(done -> h.eventually(() -> Future.succeededFuture(handled(a, b) >= UNIQUE && clicksCounted(a, b) >= UNIQUE / 2), 20_000))
        // A stray second handling needs an entry still pending: once none is, the totals are final.
        .compose(v -> h.eventually(() -> Sharded.settled(h::redis), 10_000))
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
}
