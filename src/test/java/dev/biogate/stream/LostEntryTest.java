package dev.biogate.stream;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.HarnessTest;
import dev.biogate.webhook.Deliveries;
import io.micrometer.core.instrument.FunctionCounter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A pending entry deleted from the stream behind the engine's back (trimmed by hand, or by an older version that
 * capped the stream) is never acknowledged silently: it is logged and counted as lost, and the consumer that held it
 * (here one that never beat a heartbeat and has gone quiet) is removed.
 */
class LostEntryTest extends HarnessTest {

  @Test
  void aPendingEntryDeletedFromTheStreamIsCountedLostAndItsDeadConsumerRemoved(Vertx vertx, VertxTestContext ctx) {
    String stream = RedisKeys.eventsShard(0);
    String group = RedisKeys.EVENTS_GROUP;
    String[] id = new String[1];
    h.redis(Request.cmd(Command.XGROUP).arg("CREATE").arg(stream).arg(group).arg("0").arg("MKSTREAM"))
      .compose(v -> h.redis(Request.cmd(Command.XADD).arg(stream).arg("*").arg("provider").arg("linkme")
        .arg("delivery_id").arg("ghost-1").arg("type").arg("link.click").arg("received").arg("0").arg("body").arg("{}")))
      .compose(r -> {
        id[0] = r.toString();
        // An old-version consumer reads it, then dies; the entry is deleted while still pending.
        return h.redis(Request.cmd(Command.XREADGROUP).arg("GROUP").arg(group).arg("ghost").arg("COUNT").arg(1)
          .arg("STREAMS").arg(stream).arg(">"));
      })
      .compose(r -> h.redis(Request.cmd(Command.XDEL).arg(stream).arg(id[0])))
      .compose(r -> h.gateway(Deliveries.config().put("webhooks", Deliveries.webhooks().put("heartbeatTtlMs", 300))))
      .compose(g -> h.eventually(() -> Future.succeededFuture(lost(g) == 1.0), 10_000)
        .compose(v -> h.eventually(() -> consumers().map(c -> !c.contains("ghost")), 5_000))
        .compose(v -> Future.all(consumers(), h.redis(Request.cmd(Command.XPENDING).arg(stream).arg(group))))
        .map(all -> {
          assertFalse(all.<String>resultAt(0).contains("ghost"), "the dead consumer was removed");
          assertEquals(0L, all.<io.vertx.redis.client.Response>resultAt(1).get(0).toLong(), "nothing left pending");
          assertEquals(1.0, lost(g), "counted once");
          return null;
        }))
      .onComplete(ctx.succeedingThenComplete());
  }

  private Future<String> consumers() {
    return h.redis(Request.cmd(Command.XINFO).arg("CONSUMERS").arg(RedisKeys.eventsShard(0)).arg(RedisKeys.EVENTS_GROUP))
      .map(Object::toString);
  }

  private static double lost(Gateway g) {
    return g.registry().find("biogate.stream.lost").tag("stream", "bg:events").functionCounters().stream()
      .mapToDouble(FunctionCounter::count).sum();
  }
}
