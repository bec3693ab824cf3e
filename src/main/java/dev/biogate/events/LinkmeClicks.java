package dev.biogate.events;

import dev.biogate.analytics.ClickEvent;
import dev.biogate.analytics.ClickStreamWriter;
import dev.biogate.stream.Outcome;
import dev.biogate.stream.StreamEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Records LinkMe {@code link.click} events on the clicks stream (event id = the LinkMe envelope id, source linkme)
 * for click analytics and the sinks. Each delivery reaches this once (deduplicated at ingestion); consumers of the
 * clicks stream dedupe on the event id for the rare repeat after a Redis failure between this write and the ack.
 * While the clicks stream is at its backlog ceiling the event is kept (offered again later), never dropped.
 */
public final class LinkmeClicks {

  private static final Logger LOG = LoggerFactory.getLogger(LinkmeClicks.class);

  private final ClickStreamWriter writer;

  public LinkmeClicks(ClickStreamWriter writer) {
    this.writer = writer;
  }

  Future<Outcome> record(StreamEntry e, JsonObject envelope) {
    JsonObject data = envelope.getJsonObject("data", new JsonObject());
    Object linkId = data.getValue("link_id");
    String eventId = e.get("delivery_id");
    if (!(linkId instanceof String || linkId instanceof Number) || !ClickEvent.usableId(linkId.toString())
      || !ClickEvent.usableId(eventId)) {
      LOG.debug("acknowledged a LinkMe click without a usable link id (event {})", EventRouter.safe(eventId));
      return Future.succeededFuture(Outcome.done());
    }
    Object ts = envelope.getValue("ts");
    long received = ClickEvent.parseTs(e.get("received"), e.addedAtMs());
    long when = ts instanceof String || ts instanceof Number ? ClickEvent.parseTs(ts.toString(), received) : received;
    ClickEvent click = new ClickEvent(eventId, null, linkId.toString(), when, ClickEvent.SOURCE_LINKME);
    return writer.write(List.of(click)).map(Outcome.done())
      .recover(err -> err instanceof ClickStreamWriter.Full ? Future.succeededFuture(Outcome.keep()) : Future.failedFuture(err));
  }
}
