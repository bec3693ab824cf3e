package dev.biogate.destination;

import dev.biogate.config.DestinationOptions;
import dev.biogate.support.RedisClientTest;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Queueing an event for the destinations wakes this instance's reader of the outbound stream, as webhook ingest wakes
 * the events readers: the reader polled every 100 ms for good (a tenth of an idle instance's Redis calls), and now
 * pauses up to a second while idle, which only entries it was not told about wait for. Nothing queued (no destination
 * wants the type) wakes nothing.
 */
class FanOutWakeTest extends RedisClientTest {

  @Test
  void queueingWakesTheOutboundReaderAndNothingQueuedWakesNothing(Vertx vertx, VertxTestContext ctx) {
    DestinationOptions options = new DestinationOptions(new JsonObject().put("endpoints", new JsonArray().add(new JsonObject()
      .put("name", "crm").put("url", "http://127.0.0.1:9/in").put("events", new JsonArray().add("linktree.*")))));
    List<String> woken = new CopyOnWriteArrayList<>();
    FanOut fanOut = new FanOut(redis, options, 3_600, new DestinationDirectory(vertx, redis, options), woken::add);
    String id = "wake-" + System.nanoTime();
    fanOut.fanOut("linktree", "link.updated", id, "1", "{}")
      .compose(queued -> {
        assertEquals(1, queued);
        assertEquals(List.of(OutboundKeys.STREAM), woken, "queued: the outbound reader is woken");
        return fanOut.fanOut("linkme", "click", "other-" + id, "1", "{}");
      })
      .onComplete(ctx.succeeding(unwanted -> ctx.verify(() -> {
        assertEquals(0, unwanted, "no destination wants linkme events");
        assertEquals(1, woken.size(), "nothing queued, nothing woken: " + woken);
        ctx.completeNow();
      })));
  }
}
