package dev.biogate.events;

import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records LinkMe {@code link.click} events on the clicks stream ({@code bg:clicks:{bg}}: event_id, link_id, ts,
 * source=linkme) for click analytics. Each delivery reaches this once (deduplicated at ingestion); consumers of the
 * clicks stream can still dedupe on {@code event_id} for the rare repeat after a Redis failure between this write
 * and the acknowledgement.
 */
final class ClickRecorder {

  private static final Logger LOG = LoggerFactory.getLogger(ClickRecorder.class);

  private final Redis redis;
  private final long maxLen;

  ClickRecorder(Redis redis, long maxLen) {
    this.redis = redis;
    this.maxLen = maxLen;
  }

  Future<Void> record(StreamEntry e, JsonObject envelope) {
    JsonObject data = envelope.getJsonObject("data", new JsonObject());
    Object linkId = data.getValue("link_id");
    if (!(linkId instanceof String || linkId instanceof Number)) {
      LOG.debug("acknowledged a LinkMe click without a link id (event {})", EventRouter.safe(e.deliveryId()));
      return Future.succeededFuture();
    }
    Object ts = envelope.getValue("ts");
    String when = ts instanceof String || ts instanceof Number ? ts.toString() : e.fields.getOrDefault("received", "");
    return redis.send(Request.cmd(Command.XADD).arg(RedisKeys.CLICKS_STREAM).arg("MAXLEN").arg("~").arg(maxLen).arg("*")
        .arg("event_id").arg(e.deliveryId())
        .arg("link_id").arg(linkId.toString())
        .arg("ts").arg(when)
        .arg("source").arg("linkme"))
      .mapEmpty();
  }
}
