package dev.biogate.destination;

import dev.biogate.config.DestinationOptions;
import dev.biogate.redis.RedisKeys;
import dev.biogate.stream.Outcome;
import dev.biogate.stream.StreamEntry;
import dev.biogate.support.RedisClientTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * "None sends it again once a 2xx was recorded": the 2xx is recorded in the delivery's attempt log before the entry is
 * acknowledged, and an acknowledgement can be lost on its own (a Sentinel switch drops what the old master had not
 * replicated). The entry then comes back pending, and a drill saw 27 deliveries POSTed a second time, after a 2xx its
 * log already showed. The sender now reads the log before sending and finishes an entry it finds delivered.
 */
class RecordedDeliveryTest extends RedisClientTest {

  @Test
  void anEntryWhoseLogAlreadyHoldsA2xxIsFinishedWithoutSendingAgain(Vertx vertx, VertxTestContext ctx) {
    AtomicInteger posts = new AtomicInteger();
    HttpServer receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      posts.incrementAndGet();
      req.response().setStatusCode(200).end();
    }));
    receiver.listen(0, "127.0.0.1").compose(server -> {
      DestinationOptions options = new DestinationOptions(new JsonObject().put("endpoints", new JsonArray().add(new JsonObject()
        .put("name", "crm").put("url", "http://127.0.0.1:" + server.actualPort() + "/in").put("events", new JsonArray().add("*")))));
      DestinationSender sender = new DestinationSender(vertx, redis, options, 3_600, new DestinationDirectory(vertx, redis, options));
      String delivered = "msg_recorded_" + System.nanoTime();
      String fresh = "msg_fresh_" + System.nanoTime();
      return redis.send(Request.cmd(Command.RPUSH).arg(OutboundKeys.attempts(delivered))
          .arg(new JsonObject().put("at", "2026-12-05T10:00:00Z").put("status", 200).encode()))
        .compose(v -> sender.handle(entry(delivered), () -> Future.succeededFuture(true)))
        .compose(first -> {
          assertEquals(Outcome.Kind.DONE, first.kind(), "finished: its log shows it delivered");
          assertEquals(0, posts.get(), "and not sent again");
          return sender.handle(entry(fresh), () -> Future.succeededFuture(true));
        })
        .map(second -> {
          assertEquals(Outcome.Kind.DONE, second.kind());
          assertEquals(1, posts.get(), "a delivery with no 2xx recorded is sent");
          return null;
        })
        .eventually(() -> {
          sender.close();
          return receiver.close();
        });
    }).onComplete(ctx.succeedingThenComplete());
  }

  /**
   * A delivery for a destination this instance does not know: kept (for an instance that knows it to take over) while
   * a live instance announces the destination, dead-lettered at once when none does. The first version kept every
   * such delivery for 15 minutes, so a destination removed from every instance with a backlog would have held each
   * instance's 64 delivery slots for that long and stalled every other destination.
   */
  @Test
  void aDeliveryForAnUnknownDestinationIsKeptOnlyWhileALiveInstanceAnnouncesIt(Vertx vertx, VertxTestContext ctx) {
    String name = "elsewhere-" + System.nanoTime();
    DestinationOptions mine = options("crm-" + System.nanoTime());
    DestinationOptions theirs = options(name);
    DestinationDirectory here = new DestinationDirectory(vertx, redis, mine);
    DestinationDirectory peer = new DestinationDirectory(vertx, redis, theirs);
    DestinationSender sender = new DestinationSender(vertx, redis, mine, 3_600, here);
    long now = System.currentTimeMillis();
    Map<String, String> fields = Map.of("destination", name, "webhook_id", "msg_unknown", "type", "linktree.link.updated",
      "provider", "linktree", "delivery_id", "d-unknown", "received", Long.toString(now), "body", "{}");
    StreamEntry e = new StreamEntry(now + "-0", fields);
    sender.handle(e, () -> Future.failedFuture("must not be asked"))
      .compose(nobodyKnowsIt -> {
        assertEquals(Outcome.Kind.DEAD, nobodyKnowsIt.kind(), "no live instance announces the destination");
        assertEquals("destination not configured", nobodyKnowsIt.reason());
        return peer.start().compose(v -> sender.handle(e, () -> Future.failedFuture("must not be asked")));
      })
      .compose(aPeerKnowsIt -> {
        assertEquals(Outcome.Kind.KEEP, aPeerKnowsIt.kind(), "left for the instance that announces it");
        // The fan-out's view: once this instance has read the directory, the peer's destination is among its matches.
        return here.start().map(v -> {
          assertEquals(List.of("linktree.*"), here.peers().get(name).stream().map(Object::toString).toList());
          return null;
        });
      })
      .eventually(() -> {
        here.stop();
        peer.stop();
        sender.close();
        return Future.succeededFuture();
      })
      .onComplete(ctx.succeedingThenComplete());
  }

  private static DestinationOptions options(String name) {
    return new DestinationOptions(new JsonObject().put("endpoints", new JsonArray().add(new JsonObject()
      .put("name", name).put("url", "http://127.0.0.1:9/in").put("events", new JsonArray().add("linktree.*")))));
  }

  private static StreamEntry entry(String webhookId) {
    return new StreamEntry("1-0", Map.of("destination", "crm", "webhook_id", webhookId, "type", "linktree.link.updated",
      "provider", "linktree", "delivery_id", "d-" + webhookId, "received", "1796464000000", "body", "{\"type\":\"link.updated\"}"));
  }
}
