package dev.biogate.webhook;

import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code redis/klaviyo_ingest.lua} on a real Redis: the backlog ceiling refuses a whole batch and writes nothing. */
@ExtendWith(VertxExtension.class)
class KlaviyoIngestScriptTest {

  private final LuaScript script = LuaScript.load("klaviyo_ingest");
  private Redis redis;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    redis = Redis.createClient(vertx, TestRedis.url());
    redis.send(Request.cmd(Command.FLUSHDB)).onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stop() {
    redis.close();
  }

  private Future<Response> ingest(long ceiling, String... ids) {
    List<String> keys = new ArrayList<>(List.of(RedisKeys.eventsShard(0)));
    List<String> args = new ArrayList<>(List.of("600", Long.toString(ceiling), "klaviyo", "1700000000000"));
    for (String id : ids) {
      keys.add(RedisKeys.webhookDedupe(0, "klaviyo", "id", id));
      keys.add(RedisKeys.webhookDelivery(0, "klaviyo", id));
      args.addAll(List.of(id, "event:klaviyo.clicked_email", "{\"external_id\":\"" + id + "\"}"));
    }
    return script.run(redis, keys, args);
  }

  @Test
  void aBatchThatWouldPassTheCeilingIsRefusedWhole(VertxTestContext ctx) {
    ingest(3, "a", "b").compose(first -> {
      ctx.verify(() -> assertEquals(List.of(2, 0), List.of(first.get(0).toInteger(), first.get(1).toInteger())));
      // Two new events would make the backlog 4 > 3: refused, nothing of it written. Known events still count.
      return ingest(3, "a", "c", "d");
    }).compose(refused -> {
      ctx.verify(() -> assertEquals(-1, refused.get(0).toInteger()));
      // In order: the refused batch's state is read before the retry is sent.
      Future<Response> len = redis.send(Request.cmd(Command.XLEN).arg(RedisKeys.eventsShard(0)));
      Future<Response> marked = len.compose(l -> redis.send(Request.cmd(Command.EXISTS).arg(RedisKeys.webhookDedupe(0, "klaviyo", "id", "c"))));
      return marked.compose(m -> Future.all(len, marked, ingest(3, "a", "c")));
    }).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      assertEquals(2, all.<Response>resultAt(0).toInteger(), "only the first batch is queued");
      assertEquals(0, all.<Response>resultAt(1).toInteger(), "a refused event is not marked: its retry is not a duplicate");
      Response fits = all.resultAt(2);
      assertEquals(List.of(1, 1), List.of(fits.get(0).toInteger(), fits.get(1).toInteger()), "one new event fits, one known");
      ctx.completeNow();
    })));
  }

  /**
   * The Klaviyo shard holds its share of the deployment-wide ceiling, as every shard does. Found in a fault drill:
   * with a ceiling of 160 over 16 shards (10 each), a Klaviyo batch of 20 was queued, the whole ceiling applying to
   * its shard. A shard always takes one whole batch, which could otherwise never be queued.
   */
  @Test
  void theKlaviyoShardHoldsItsShareOfTheCeilingAndAtLeastOneBatch() {
    io.vertx.core.json.JsonObject webhooks = new io.vertx.core.json.JsonObject().put("shards", 16);
    assertEquals(62_500, KlaviyoIngest.ceiling(new dev.biogate.config.WebhookOptions(webhooks.copy().put("streamMaxLen", 1_000_000))));
    assertEquals(KlaviyoBatch.MAX_EVENTS, KlaviyoIngest.ceiling(new dev.biogate.config.WebhookOptions(webhooks.copy().put("streamMaxLen", 160))));
    assertEquals(1_000_000, KlaviyoIngest.ceiling(new dev.biogate.config.WebhookOptions(webhooks.copy().put("shards", 1).put("streamMaxLen", 1_000_000))));
  }
}
