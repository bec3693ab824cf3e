package dev.biogate.events;

import dev.biogate.stream.Outcome;
import dev.biogate.stream.StreamEntry;
import dev.biogate.stream.StreamHandler;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import dev.biogate.profile.ProfileService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.Set;

/**
 * Dispatches a queued delivery to its handler by provider and type. Unknown types are logged (the type only, never
 * the payload; once per type) and acknowledged: a type this version does not know will not become known by retrying.
 * The events stream's handler: a handler that fails makes the attempt a {@link Outcome#retry}.
 */
public final class EventRouter implements StreamHandler {

  private static final Logger LOG = LoggerFactory.getLogger(EventRouter.class);
  private static final int MAX_REPORTED = 100;

  private final ProfileEventHandler profiles;
  private final MilestoneForwarder milestones;
  private final LinkmeClicks clicks;
  private final KlaviyoEvents klaviyo;
  private final Set<String> reported = new HashSet<>();

  EventRouter(ProfileEventHandler profiles, MilestoneForwarder milestones, LinkmeClicks clicks, KlaviyoEvents klaviyo) {
    this.klaviyo = klaviyo;
    this.profiles = profiles;
    this.milestones = milestones;
    this.clicks = clicks;
  }

  /** The router of the gateway's own event handlers. */
  public static EventRouter create(ProfileService profiles, MilestoneForwarder milestones, LinkmeClicks clicks,
                                   KlaviyoEvents klaviyo) {
    return new EventRouter(new ProfileEventHandler(profiles), milestones, clicks, klaviyo);
  }

  @Override
  public Future<Outcome> handle(StreamEntry e) {
    if ("linkme".equals(e.get("provider")) && "link.click".equals(e.get("type"))) {
      return clicks.record(e, envelope(e));
    }
    return route(e).map(Outcome.done());
  }

  Future<Void> route(StreamEntry e) {
    String provider = e.get("provider");
    String type = e.get("type");
    if ("linkme".equals(provider)) {
      // LinkMe events other than clicks carry nothing the gateway keeps (yet): acknowledged.
      return Future.succeededFuture();
    }
    if ("klaviyo".equals(provider)) {
      return klaviyo.record(e);
    }
    if ("linktree".equals(provider) && type != null) {
      switch (type) {
        case "profile.updated":
          return profiles.profileUpdated(data(e));
        case "link.created":
        case "link.updated":
        case "link.deleted":
          return profiles.linkChanged(type, data(e));
        case "analytics.milestone":
          return milestones.forward(e, data(e));
        default:
          break;
      }
    }
    String key = safe(provider) + "/" + safe(type);
    if (reported.size() < MAX_REPORTED && reported.add(key)) {
      // Once per type and instance: a sender switching on a new event type must not flood the log.
      LOG.info("acknowledging webhook events of unhandled type {} (logged once)", key);
    }
    return Future.succeededFuture();
  }

  private static JsonObject envelope(StreamEntry e) {
    // The body was verified and checked to be a JSON object at ingestion.
    return new JsonObject(e.get("body"));
  }

  private static JsonObject data(StreamEntry e) {
    JsonObject data = envelope(e).getJsonObject("data");
    return data != null ? data : new JsonObject();
  }

  /** Sender-controlled text made safe for one log line. */
  static String safe(String s) {
    if (s == null) {
      return "-";
    }
    StringBuilder b = new StringBuilder(Math.min(s.length(), 64));
    for (int i = 0; i < s.length() && b.length() < 64; i++) {
      char c = s.charAt(i);
      b.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return b.toString();
  }
}
