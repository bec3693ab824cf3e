package dev.biogate.destination;

import dev.biogate.http.OutboundCalls;
import dev.biogate.support.HarnessTest;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A destination's answer counts by its status alone, and none of its bytes are kept. An attack pass had a destination
 * answer 4 MiB and hold it: the sender read every answer into the heap up to the 4 MiB limit of an upstream answer, 64
 * deliveries at once, and a 160 MiB heap ran out of memory; the deliveries stayed pending and did it again after every
 * restart. An answer past that limit also failed the call, so a destination that accepted the event with a large
 * answer had it sent again and again.
 */
class DestinationAnswerTest extends HarnessTest {

  @Test
  void aTwoHundredWithAnAnswerLargerThanAnyKeptIsDelivered(VertxTestContext ctx) {
    Buffer large = Buffer.buffer(new byte[OutboundCalls.MAX_ANSWER_BYTES + 1024 * 1024]);
    AtomicInteger requests = new AtomicInteger();
    HttpServer server = h.vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      requests.incrementAndGet();
      req.response().setStatusCode(200).end(large);
    }));
    server.listen(0, "127.0.0.1").compose(s -> {
      JsonObject cfg = new JsonObject().put("endpoints", new JsonArray().add(new JsonObject().put("name", "big")
        .put("url", "http://127.0.0.1:" + s.actualPort() + "/big").put("events", new JsonArray().add("linktree.*"))))
        .put("maxAttempts", 3).put("retryBaseMs", 20).put("retryMaxMs", 100);
      return h.gateway(Deliveries.config().put("destinations", cfg));
    }).compose(g -> Deliveries.milestones(h, g, List.of("big-answer"))
      .compose(v -> {
        String webhookId = FanOut.webhookId("linktree", "big-answer", "big");
        return h.eventually(() -> history(g, webhookId).map(x -> "handled".equals(x.getString("outcome"))
          || x.getInteger("attempts", 0) >= 2), 15_000)
          .compose(x -> history(g, webhookId));
      })
      .map(history -> {
        assertEquals("handled", history.getString("outcome"), history.encode());
        assertEquals(1, history.getInteger("attempts"), history.encode());
        assertEquals(200, history.getJsonArray("attempt_log").getJsonObject(0).getInteger("status"), history.encode());
        assertEquals(1, requests.get());
        return null;
      }))
      .eventually(() -> server.close())
      .onComplete(ctx.succeedingThenComplete());
  }

  private Future<JsonObject> history(dev.biogate.Gateway g, String webhookId) {
    return h.send(HttpMethod.GET, g, "/admin/destinations/deliveries/" + webhookId, Deliveries.ADMIN_TOKEN)
      .map(r -> r.statusCode() == 200 ? r.bodyAsJsonObject() : new JsonObject());
  }
}
