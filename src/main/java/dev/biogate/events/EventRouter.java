package dev.biogate.events;

import dev.biogate.config.LinkmeAttributionOptions;
import dev.biogate.destination.FanOut;
import dev.biogate.profile.ProfileService;
import dev.biogate.stream.Outcome;
import dev.biogate.stream.StreamEntry;
import dev.biogate.stream.StreamHandler;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The events stream's handler. Every verified delivery is first queued for each outbound destination whose filters
 * want {@code <provider>.<type>} ({@link FanOut}, idempotent per delivery), then dispatched to the gateway's own
 * handler for its provider and type:
 * <ul>
 *   <li>Linktree {@code profile.updated}, {@code link.*}: cache freshness; {@code analytics.milestone}: the Klaviyo
 *       sink (the built-in destination; every other receiver is a destination subscribed to
 *       {@code linktree.analytics.milestone});</li>
 *   <li>Klaviyo system webhooks: counted by topic;</li>
 *   <li>LinkMe {@code link.click}: the clicks stream, attributed ({@link LinkmeAttribution}); {@code link.token_created},
 *       {@code link.claim}, {@code link.app_open}, {@code link.deferred_claim_attempt}: attributed and forwarded to
 *       the destinations that subscribe to them.</li>
 * </ul>
 * Nothing is discarded silently: the delivery's history records which handler took it and what it did, or that it
 * was {@code skipped} and why (no handler and no destination wants the type, or the payload lacks what the handler
 * needs). A handler that fails makes the attempt a {@link Outcome#retry}; a profile change that kept losing the race
 * to write its profile is a {@link Outcome#keep} instead ({@link ProfileService.Contended}).
 */
public final class EventRouter implements StreamHandler {

  /** The shortest wait before a contended change is tried again (the longest is twice this). */
  private static final long CONTENDED_KEEP_MS = 250;

  private final ProfileEventHandler profiles;
  private final Milestones milestones;
  private final LinkmeClicks clicks;
  private final LinkmeAttribution attribution;
  private final FanOut fanOut;
  private final KlaviyoEvents klaviyo;

  /** What the gateway's own handler did: {@code handler} is {@code null} when none wants the event. */
  private record Routed(Outcome outcome, String handler, String result, String skip, String context) {
    static Routed done(String handler, String result) {
      return new Routed(Outcome.done(), handler, result, null, null);
    }

    static Routed none() {
      return new Routed(Outcome.done(), null, null, null, null);
    }

    /** What to say when the event was also forwarded. */
    String before() {
      return result != null ? result : context;
    }
  }

  EventRouter(ProfileEventHandler profiles, Milestones milestones, LinkmeClicks clicks, KlaviyoEvents klaviyo,
              LinkmeAttribution attribution, FanOut fanOut) {
    this.klaviyo = klaviyo;
    this.profiles = profiles;
    this.milestones = milestones;
    this.clicks = clicks;
    this.attribution = attribution;
    this.fanOut = fanOut;
  }

  /** The router of the gateway's own event handlers; {@code fanOut} may be {@code null} (no destinations). */
  public static EventRouter create(ProfileService profiles, Redis redis, Milestones milestones, LinkmeClicks clicks,
                                   KlaviyoEvents klaviyo, LinkmeAttributionOptions linkme, FanOut fanOut) {
    return new EventRouter(new ProfileEventHandler(profiles, redis), milestones, clicks, klaviyo, new LinkmeAttribution(linkme),
      fanOut);
  }

  /** What is still owed once the engines have stopped (a marking due at the end of its period); call at the stop. */
  public Future<Void> stop() {
    return profiles.flush();
  }

  @Override
  public Future<Outcome> handle(StreamEntry e) {
    String provider = e.get("provider");
    String type = e.get("type");
    Future<Integer> fanned = fanOut == null || provider == null || type == null ? Future.succeededFuture(0)
      : fanOut.fanOut(provider, type, e.get("delivery_id"), e.get("received"), e.get("body"));
    return fanned.compose(n -> {
      if (n == FanOut.FULL) {
        return Future.succeededFuture(Outcome.keep());
      }
      return route(e, provider, type).recover(EventRouter::contended).compose(r -> {
        if (r.outcome().kind() != Outcome.Kind.DONE) {
          return Future.succeededFuture(r.outcome());
        }
        String fullType = safe(provider) + "." + safe(type);
        if (n > 0) {
          // Forwarded, and the handler's skip (an older change) still recorded: it used to read as handled.
          String forwarded = "forwarded to " + n + " destination" + (n == 1 ? "" : "s");
          return Future.succeededFuture(noted(r.handler() == null ? "destinations" : r.handler(),
            r.before() == null ? forwarded : r.before() + "; " + forwarded,
            r.skip() == null || r.handler() == null ? null : r.handler() + ": " + r.skip()));
        }
        if (r.result() != null) {
          return Future.succeededFuture(noted(r.handler(), r.result(), null));
        }
        String reason = r.handler() == null ? "no handler or destination wants " + fullType
          : r.handler() + ": " + (r.skip() != null ? r.skip() : "no destination subscribes to " + fullType);
        return Future.succeededFuture(noted(r.handler(), null, reason));
      });
    });
  }

  /**
   * A profile change that lost the race to write a hot profile every time it tried (other instances' writes got in):
   * kept and tried again a little later, without spending an attempt. Every lost race is another write that got in,
   * so the profile is being written, not failing; counted as failures, a long burst of changes to one profile would
   * dead-letter some. The pause is random so that the instances fall out of step.
   */
  private static Future<Routed> contended(Throwable err) {
    if (!(err instanceof ProfileService.Contended)) {
      return Future.failedFuture(err);
    }
    long afterMs = CONTENDED_KEEP_MS + ThreadLocalRandom.current().nextLong(CONTENDED_KEEP_MS);
    return Future.succeededFuture(new Routed(Outcome.keep(afterMs), null, null, null, null));
  }

  /**
   * Handled, noting on the delivery's history which handler took it and its result, or ({@code skipped} not
   * {@code null}) why none wanted it: the acknowledgement writes them with {@code outcome=handled}.
   */
  private static Outcome noted(String handler, String result, String skipped) {
    List<String> notes = new ArrayList<>(6);
    if (handler != null) {
      notes.add("handler");
      notes.add(handler);
    }
    if (result != null) {
      notes.add("result");
      notes.add(result);
    }
    if (skipped != null) {
      notes.add("skipped");
      notes.add(skipped);
    }
    return Outcome.done(notes);
  }

  private Future<Routed> route(StreamEntry e, String provider, String type) {
    if ("linkme".equals(provider) && type != null) {
      JsonObject envelope = envelope(e);
      String creator = attribution.creator(envelope);
      switch (type) {
        case "link.click":
          return clicks.record(e, envelope, creator).map(r -> new Routed(r.outcome(), "linkme.click", r.note(),
            r.note() == null ? "no usable link_id or event id" : null, null));
        case "link.token_created":
        case "link.claim":
        case "link.app_open":
        case "link.deferred_claim_attempt":
          // Nothing in the gateway keeps these: their handler attributes them and they go where destinations want
          // them; with none subscribed they are skipped, and the history says so.
          return Future.succeededFuture(attributed(new Routed(Outcome.done(), "linkme." + type.substring("link.".length()),
            null, null, null), creator, envelope));
        default:
          return Future.succeededFuture(Routed.none());
      }
    }
    if ("klaviyo".equals(provider)) {
      return klaviyo.record(e).map(v -> Routed.done("klaviyo.topics", "counted by topic"));
    }
    if ("linktree".equals(provider) && type != null) {
      JsonObject envelope = envelope(e);
      switch (type) {
        case "profile.updated":
          return profiles.profileUpdated(data(envelope), madeAt(envelope, received(e))).map(change -> change.result != null
            ? Routed.done("linktree.profile", change.result)
            : new Routed(Outcome.done(), "linktree.profile", null, "older than a change already applied to this profile", null));
        case "link.created":
        case "link.updated":
        case "link.deleted":
          return profiles.linkChanged(type, data(envelope), madeAt(envelope, received(e))).map(change -> change.result != null
            ? Routed.done("linktree.links", change.result)
            : new Routed(Outcome.done(), "linktree.links", null, "older than a change already applied to this link", null));
        case "analytics.milestone":
          return milestones.toKlaviyo(e, data(envelope), madeAt(envelope, received(e))).map(queued -> queued
            ? Routed.done("linktree.milestone", "queued for Klaviyo")
            : new Routed(Outcome.done(), "linktree.milestone", null, null, null));
        default:
          break;
      }
    }
    return Future.succeededFuture(Routed.none());
  }

  /** The four LinkMe types the gateway only forwards: the result names who the event was attributed to. */
  private static Routed attributed(Routed r, String creator, JsonObject envelope) {
    String profile = creator != null ? "creator " + creator : LinkmeAttribution.appProfile(envelope);
    return new Routed(r.outcome(), r.handler(), null, null, profile == null ? null : "attributed to " + profile);
  }

  private static JsonObject envelope(StreamEntry e) {
    // The body was verified and checked to be a JSON object at ingestion.
    return e.json("body");
  }

  /**
   * A change dated later than this after its delivery arrived reads as no time (the signature's default future
   * tolerance): a change dated years ahead would outrank every real change to its profile for as long as the order is
   * kept (96 hours).
   */
  static final long FUTURE_MS = dev.biogate.config.WebhookOptions.DEFAULT_FUTURE_TOLERANCE_S * 1000;

  /** {@link #madeAt(JsonObject)}, and -1 for a time later than {@code receivedMs} (when known) + {@link #FUTURE_MS}. */
  static long madeAt(JsonObject envelope, long receivedMs) {
    long t = madeAt(envelope);
    return t > 0 && receivedMs > 0 && t - receivedMs > FUTURE_MS ? -1 : t;
  }

  /** When {@code e} was received, epoch ms, or 0 when it does not say. */
  private static long received(StreamEntry e) {
    Long at = DeadLetters.longOrNull(e.get("received"));
    return at == null ? 0 : at;
  }

  /**
   * When the change was made, epoch ms, from the envelope's {@code timestamp} (ISO-8601, or Unix seconds or
   * milliseconds); -1 when it has none that reads as a time (a date whose milliseconds overflow a long included).
   */
  static long madeAt(JsonObject envelope) {
    Object t = envelope.getValue("timestamp");
    if (t instanceof Number) {
      double n = ((Number) t).doubleValue();
      return n <= 0 || n > 1e14 ? -1 : n < 1e11 ? (long) (n * 1000) : (long) n;
    }
    if (t instanceof String && ((String) t).length() <= 64) {
      try {
        return java.time.OffsetDateTime.parse((String) t).toInstant().toEpochMilli();
      } catch (java.time.DateTimeException | ArithmeticException notATime) {
        return -1;
      }
    }
    return -1;
  }

  private static JsonObject data(JsonObject envelope) {
    JsonObject data = envelope.getJsonObject("data");
    return data != null ? data : new JsonObject();
  }

  /** Sender-controlled text made safe for one log line or a history field. */
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
