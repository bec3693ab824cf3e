package dev.biogate.destination;

import dev.biogate.Gateway;
import dev.biogate.support.Eventually;
import dev.biogate.support.HarnessTest;
import dev.biogate.webhook.Deliveries;
import io.micrometer.core.instrument.FunctionCounter;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dead letters are never trimmed. Their stream was capped ({@code XADD MAXLEN ~}, at the stream's
 * {@code streamMaxLen}): a fault drill dead-lettered 800 deliveries, all answered {@code 200} to their sender, and the
 * stream held 403, the 397 others gone with nothing logged or counted while their history still said
 * {@code dead_lettered}. At its ceiling a dead-letter stream now takes nothing more: the failing entry stays unfinished
 * in its own stream (so that stream's ceiling pushes back on senders as designed), is tried again later, and the
 * engine counts it ({@code biogate_stream_entries_total{result="dead_letters_full"}}) and logs it.
 */
class DeadLetterCeilingTest extends HarnessTest {

  /** The outbound ceiling, which is also the ceiling of the outbound dead letters. */
  private static final int CEILING = 20;
  /** More than the ceiling by over a stream node's worth, or an approximate trim ({@code ~}) would remove nothing. */
  private static final int EVENTS = 130;

  @Test
  void deadLettersAtTheirCeilingLeaveTheFailingEntriesUnfinishedAndNothingIsLost(VertxTestContext ctx) {
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < EVENTS; i++) {
      ids.add("dlc-" + i);
    }
    h.receiver(422).compose(crm -> {
      JsonObject cfg = crm.destinations("crm", "linktree.*").put("maxAttempts", 1).put("retryBaseMs", 20)
        .put("retryMaxMs", 100).put("streamMaxLen", CEILING);
      return h.gateway(Deliveries.config().put("destinations", cfg)).compose(g -> Deliveries.milestones(h, g, ids)
        // Full: CEILING dead letters, CEILING failed deliveries waiting on the outbound stream, the rest of the events
        // on the events stream (the outbound ceiling holds them back). Every one of them is somewhere.
        .compose(v -> Eventually.until(h.vertx, () -> streams(g).map(s -> s.getLong("dead") == CEILING
          && s.getLong("outbound_backlog") == CEILING && s.getLong("events_backlog") == EVENTS - 2 * CEILING
          && deadLettersFull(g) > 0), 20_000, "dead letters at their ceiling, the rest unfinished"))
        .compose(v -> deadLetterIds(g))
        .compose(firstDead -> {
          // The destination accepts again: what waited is delivered, the dead letters stay as they were.
          crm.status.set(200);
          return Eventually.until(h.vertx, () -> streams(g).map(s -> s.getLong("outbound_backlog") == 0
              && s.getLong("events_backlog") == 0 && crm.delivered().size() == EVENTS - CEILING), 20_000,
              "everything not dead-lettered delivered")
            .compose(v -> deadLetterIds(g))
            .map(dead -> {
              assertEquals(firstDead, dead, "the dead letters are the ones first written, none trimmed");
              assertEquals(CEILING, dead.size());
              Set<String> accountedFor = new HashSet<>(dead);
              accountedFor.addAll(crm.delivered());
              assertEquals(Set.copyOf(ids), accountedFor, "every accepted event delivered or dead-lettered");
              assertTrue(dead.stream().noneMatch(crm.delivered()::contains), "none both");
              return null;
            });
        }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  /** Dead letters, outbound backlog and events backlog, as the operator's overview and the dead-letter API read them. */
  private Future<JsonObject> streams(Gateway g) {
    return Future.all(h.send(HttpMethod.GET, g, "/admin/overview", Deliveries.ADMIN_TOKEN),
        h.redis(Request.cmd(Command.XLEN).arg(OutboundKeys.DEAD)))
      .map(all -> all.<io.vertx.ext.web.client.HttpResponse<Buffer>>resultAt(0).bodyAsJsonObject().getJsonObject("streams")
        .put("dead", all.<Response>resultAt(1).toLong()));
  }

  private Future<Set<String>> deadLetterIds(Gateway g) {
    return h.send(HttpMethod.GET, g, "/admin/destinations/dead-letters?limit=1000", Deliveries.ADMIN_TOKEN).map(r -> {
      Set<String> out = new HashSet<>();
      r.bodyAsJsonObject().getJsonArray("dead_letters").forEach(o -> out.add(((JsonObject) o).getString("delivery_id")));
      return out;
    });
  }

  private static double deadLettersFull(Gateway g) {
    return g.registry().find("biogate.stream.entries").tag("stream", OutboundKeys.STREAM).tag("result", "dead_letters_full")
      .functionCounters().stream().mapToDouble(FunctionCounter::count).sum();
  }

}
