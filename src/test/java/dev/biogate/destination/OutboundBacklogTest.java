package dev.biogate.destination;

import dev.biogate.Gateway;
import dev.biogate.support.Harness;
import dev.biogate.support.Receiver;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A destination that cannot keep up leaves its deliveries on the outbound stream. That backlog, its ceiling
 * ({@code destinations.streamMaxLen}) and its age must show where the other streams' do: {@code /metrics} (what the
 * backlog and lag alerts read) and {@code /admin/overview}. They used to show nowhere: a storm queued tens of thousands
 * of deliveries, sent up to 18 minutes late, while every gauge and the console said the streams were empty.
 */
@ExtendWith(VertxExtension.class)
class OutboundBacklogTest {

  private static final int CEILING = 500;
  private static final int EVENTS = 10;

  private Harness h;

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().onComplete(ctx.succeedingThenComplete()); // its receivers too
  }

  @Test
  @Timeout(value = 1, timeUnit = TimeUnit.MINUTES)
  void aDestinationThatCannotKeepUpShowsItsBacklogCeilingAndLag(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    // One token per 100 s: the first delivery goes at once, the others wait on the outbound stream.
    h.start().compose(x -> h.receiver(200)).compose(receiver -> {
      JsonObject destinations = receiver.destinations("capture", "*");
      destinations.put("streamMaxLen", CEILING).getJsonArray("endpoints").getJsonObject(0).put("ratePerSec", 0.01);
      return h.gateway(Deliveries.config().put("destinations", destinations)).compose(g -> backlog(g, receiver));
    }).onComplete(ctx.succeedingThenComplete());
  }

  private Future<Void> backlog(Gateway g, Receiver receiver) {
    return post(g, 0)
      .compose(v -> h.eventually(() -> Future.succeededFuture(receiver.deliveries() == 1), 10_000))
      .compose(v -> h.eventually(() -> xlen().map(n -> n == EVENTS - 1), 10_000))
      // Sampled every few seconds: the backlog, then an oldest entry a few seconds old.
      .compose(v -> h.eventually(() -> metrics(g).map(m -> value(m, "biogate_stream_backlog{stream=\"outbound\"}") == EVENTS - 1
        && value(m, "biogate_outbound_lag_seconds") >= 2), 20_000))
      .compose(v -> Future.all(metrics(g), h.send(HttpMethod.GET, g, "/admin/overview", Deliveries.ADMIN_TOKEN)))
      .map(all -> {
        String m = all.resultAt(0);
        assertEquals(CEILING, value(m, "biogate_stream_ceiling{stream=\"outbound\"}"), "the outbound stream's ceiling");
        assertTrue(value(m, "biogate_outbound_lag_seconds") < 60, "the lag is the oldest entry's age, not more");
        assertEquals(1, receiver.deliveries(), "the destination's pace held the rest back");
        HttpResponse<Buffer> overview = all.resultAt(1);
        assertEquals(200, overview.statusCode(), overview.bodyAsString());
        JsonObject streams = overview.bodyAsJsonObject().getJsonObject("streams");
        assertEquals(EVENTS - 1, streams.getLong("outbound_backlog"), streams.encode());
        return null;
      });
  }

  /** Deliveries {@code i..EVENTS-1}, one after another, each answered 200. */
  private Future<Void> post(Gateway g, int i) {
    if (i == EVENTS) {
      return Future.succeededFuture();
    }
    Buffer body = Deliveries.milestone("lnk-" + i, 100 + i);
    return h.post(g, "/webhooks/linktree", Deliveries.linktree("backlog-" + i, body), body).compose(r -> {
      assertEquals(200, r.statusCode(), r.bodyAsString());
      return post(g, i + 1);
    });
  }

  private Future<Long> xlen() {
    return h.redis(Request.cmd(Command.XLEN).arg(OutboundKeys.STREAM)).map(r -> r.toLong());
  }

  private Future<String> metrics(Gateway g) {
    return h.get(g, "/metrics").map(HttpResponse::bodyAsString);
  }

  /** The sample's value in the Prometheus text, or NaN when there is no such sample. */
  private static double value(String metrics, String sample) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(sample) + " (\\S+)$").matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }
}
