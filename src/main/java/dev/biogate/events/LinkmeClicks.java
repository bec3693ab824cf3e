package dev.biogate.events;

import dev.biogate.analytics.ClickEvent;
import dev.biogate.analytics.ClickStreamWriter;
import dev.biogate.stream.Outcome;
import dev.biogate.stream.StreamEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Records LinkMe {@code link.click} events on the clicks stream (event id = the LinkMe envelope id, source linkme)
 * for click analytics and the sinks, attributed to a creator when {@link LinkmeAttribution} finds one; otherwise the
 * entry carries {@code profile = linkme-app:<app_id>}, which the Klaviyo sink uses when the link has no known
 * owner, so the click still reaches Klaviyo. Each delivery reaches this once (deduplicated at ingestion); consumers
 * of the clicks stream dedupe on the event id for the rare repeat after a Redis failure between this write and the
 * ack. While the clicks stream is at its backlog ceiling the event is kept (offered again later), never dropped.
 */
public final class LinkmeClicks {

  /** Why a click could not be recorded, or how it was: the delivery history shows it. */
  record Result(Outcome outcome, String note) {
  }

  private final ClickStreamWriter writer;

  public LinkmeClicks(ClickStreamWriter writer) {
    this.writer = writer;
  }

  Future<Result> record(StreamEntry e, JsonObject envelope, String creator) {
    JsonObject data = envelope.getValue("data") instanceof JsonObject ? envelope.getJsonObject("data") : new JsonObject();
    Object linkId = data.getValue("link_id");
    String eventId = e.get("delivery_id");
    if (!(linkId instanceof String || linkId instanceof Number) || !ClickEvent.usableId(linkId.toString())
      || !ClickEvent.usableId(eventId)) {
      return Future.succeededFuture(new Result(Outcome.done(), null));
    }
    Object ts = envelope.getValue("ts");
    long received = ClickEvent.parseTs(e.get("received"), e.addedAtMs());
    long when = ts instanceof String || ts instanceof Number ? ClickEvent.parseTs(ts.toString(), received) : received;
    ClickEvent click = new ClickEvent(eventId, creator, linkId.toString(), when, ClickEvent.SOURCE_LINKME);
    String app = creator == null ? LinkmeAttribution.appProfile(envelope) : null;
    Future<Void> written = app == null ? writer.write(List.of(click)) : writer.write(click, List.of("profile", app));
    String note = creator != null ? "clicks stream, creator " + creator : app != null ? "clicks stream, profile " + app
      : "clicks stream, creator from the link";
    return written.map(v -> new Result(Outcome.done(), note))
      .recover(err -> err instanceof ClickStreamWriter.Full ? Future.succeededFuture(new Result(Outcome.keep(), null))
        : Future.failedFuture(err));
  }
}
