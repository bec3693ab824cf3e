package dev.biogate.events;

import dev.biogate.redis.RedisKeys;
import dev.biogate.stream.StreamEntry;
import dev.biogate.support.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A Klaviyo system-webhook event is counted once by its topic, however often it is handled: an instance killed after
 * counting an entry and before acknowledging it leaves the entry to another, which counted it again (a drill saw 4 of
 * 750 events counted twice after a kill -9).
 */
@ExtendWith(VertxExtension.class)
class KlaviyoEventsTest {

  /**
   * The topics hash keeps at most {@link KlaviyoEvents#MAX_TOPICS} topics; events of any other are counted under
   * {@code other}. Found by an attack pass: one signed batch of 1,000 events with made-up topics left 1,002 fields in a
   * hash that never expires.
   */
  @Test
  void topicsPastTheCeilingAreCountedAsOther(Vertx vertx, VertxTestContext ctx) {
    Redis redis = TestRedis.client(vertx);
    KlaviyoEvents events = new KlaviyoEvents(redis);
    io.vertx.core.Future<Void> chain = redis.send(Request.cmd(Command.DEL).arg(RedisKeys.KLAVIYO_TOPICS)).mapEmpty();
    for (int i = 0; i < KlaviyoEvents.MAX_TOPICS + 50; i++) {
      StreamEntry e = new StreamEntry(i + "-0", Map.of("type", "event:made_up_" + i, "delivery_id", "kl-" + UUID.randomUUID()));
      chain = chain.compose(v -> events.record(e));
    }
    chain.compose(v -> redis.send(Request.cmd(Command.HLEN).arg(RedisKeys.KLAVIYO_TOPICS)))
      .compose(len -> redis.send(Request.cmd(Command.HGET).arg(RedisKeys.KLAVIYO_TOPICS).arg("other"))
        .compose(other -> redis.send(Request.cmd(Command.DEL).arg(RedisKeys.KLAVIYO_TOPICS))
          .map(v -> new long[] {len.toLong(), other == null ? 0 : other.toLong()})))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertEquals(KlaviyoEvents.MAX_TOPICS + 1, r[0], "the topics kept and other");
        assertEquals(50, r[1], "the events past the ceiling");
        ctx.completeNow();
      })));
  }

  @Test
  void anEventHandledTwiceIsCountedOnce(Vertx vertx, VertxTestContext ctx) {
    Redis redis = TestRedis.client(vertx);
    KlaviyoEvents events = new KlaviyoEvents(redis);
    String topic = "event:klaviyo.test_" + UUID.randomUUID();
    StreamEntry first = new StreamEntry("1-0", Map.of("type", topic, "delivery_id", "kl-" + UUID.randomUUID()));
    StreamEntry other = new StreamEntry("2-0", Map.of("type", topic, "delivery_id", "kl-" + UUID.randomUUID()));
    events.record(first)
      .compose(v -> events.record(first)) // taken over after the first handling counted it
      .compose(v -> events.record(other))
      .compose(v -> redis.send(Request.cmd(Command.HGET).arg(RedisKeys.KLAVIYO_TOPICS).arg(topic)))
      .onComplete(ctx.succeeding(count -> ctx.verify(() -> {
        assertEquals(2, count.toInteger(), "two events, one of them handled twice");
        ctx.completeNow();
      })));
  }
}
