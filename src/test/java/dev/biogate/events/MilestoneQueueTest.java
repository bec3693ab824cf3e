package dev.biogate.events;

import dev.biogate.redis.RedisKeys;
import dev.biogate.stream.StreamEntry;
import dev.biogate.support.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A milestone's event is queued for Klaviyo once, however often its event is handled: the events handler queues it
 * and may then be retried (a full outbound stream refuses the fan-out that follows), and each retry queued it again.
 * A fault drill with the streams at their ceilings saw 19 of 1,035 milestones sent to Klaviyo twice; the sink does
 * not deduplicate, only Klaviyo does, by {@code unique_id}.
 */
@ExtendWith(VertxExtension.class)
class MilestoneQueueTest {

  @Test
  void aMilestoneHandledTwiceIsQueuedForKlaviyoOnce(Vertx vertx, VertxTestContext ctx) {
    Redis redis = TestRedis.client(vertx);
    Milestones milestones = new Milestones(redis, true);
    String deliveryId = "ms-" + UUID.randomUUID();
    StreamEntry e = new StreamEntry("1-0", Map.of("delivery_id", deliveryId, "received", "1700000000000"));
    JsonObject data = new JsonObject().put("link_id", "lnk_demo_01").put("username", "demo").put("metric", "clicks")
      .put("value", 1000).put("threshold", 1000);
    milestones.toKlaviyo(e, data, 1_700_000_000_000L)
      .compose(first -> milestones.toKlaviyo(e, data, 1_700_000_000_000L).map(second -> new boolean[] {first, second}))
      .compose(queued -> redis.send(Request.cmd(Command.XRANGE).arg(RedisKeys.KLAVIYO_RETRY).arg("-").arg("+"))
        .map(all -> {
          int n = 0;
          for (Response entry : all) {
            Response fields = entry.get(1);
            for (int i = 0; i + 1 < fields.size(); i += 2) {
              if ("event_id".equals(fields.get(i).toString()) && deliveryId.equals(fields.get(i + 1).toString())) {
                n++;
              }
            }
          }
          return new Object[] {queued[0], queued[1], n};
        }))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals(1, r[2], "queued once");
        assertEquals(true, r[0], "the first handling queued it");
        assertEquals(true, r[1], "the second finds it queued: done, nothing to do again");
        redis.close();
        ctx.completeNow();
      })));
  }
}
