package dev.biogate.analytics;

import dev.biogate.profile.ProfileSanitizer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Request;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.UUID;

/**
 * One click on a creator's link, as it travels through the clicks stream, the journal and the sinks: a unique event
 * id (the idempotency key everywhere), the creator when known, the link id, when it happened (epoch ms) and where it
 * was recorded ({@code redirect} by the gateway, {@code linkme} from LinkMe webhooks).
 *
 * @param username the creator, or {@code null} when the source did not say (LinkMe: resolved from the link id)
 */
public record ClickEvent(String eventId, String username, String linkId, long ts, String source) {

  public static final String SOURCE_REDIRECT = "redirect";
  public static final String SOURCE_LINKME = "linkme";
  private static final int MAX_ID = 128;
  private static final int MAX_FOREIGN_ID = 200;

  /** A click the gateway's own redirect recorded now: a fresh random event id. */
  public static ClickEvent redirect(String username, String linkId, long ts) {
    return new ClickEvent(UUID.randomUUID().toString(), username, linkId, ts, SOURCE_REDIRECT);
  }

  /** Link ids the redirect takes before the router, as written: 1-128 of {@code [A-Za-z0-9._:-]}. */
  public static boolean validLinkId(String s) {
    if (s == null || s.isEmpty() || s.length() > MAX_ID) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
        || c == '-' || c == ':')) {
        return false;
      }
    }
    return true;
  }

  /**
   * Link ids as profiles serve them (upstream ids are free text, sanitised) and LinkMe sends them: 1-200 characters, no
   * control character, not blank. Safe as hash fields and in JSON; never part of a key name.
   */
  public static boolean usableLinkId(String s) {
    return ProfileSanitizer.linkId(s, MAX_FOREIGN_ID);
  }

  /**
   * Ids taken from other sources (LinkMe delivery and link ids): 1-200 visible ASCII characters. Laxer than
   * {@link #validLinkId}, so a provider's id format never makes a click unreadable, still safe in keys and JSON.
   */
  public static boolean usableId(String s) {
    if (s == null || s.isEmpty() || s.length() > MAX_FOREIGN_ID) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c > '~') {
        return false;
      }
    }
    return true;
  }

  /** Appends this event's fields to an {@code XADD}. */
  public Request appendFields(Request xadd) {
    xadd.arg("event_id").arg(eventId);
    if (username != null) {
      xadd.arg("username").arg(username);
    }
    return xadd.arg("link_id").arg(linkId).arg("ts").arg(ts).arg("source").arg(source);
  }

  /** This event's stream fields, as field/value items. */
  public java.util.List<String> fields() {
    java.util.List<String> f = new java.util.ArrayList<>(10);
    f.add("event_id");
    f.add(eventId);
    if (username != null) {
      f.add("username");
      f.add(username);
    }
    java.util.Collections.addAll(f, "link_id", linkId, "ts", Long.toString(ts), "source", source);
    return f;
  }

  /** The journal's line form (same field names as the stream). */
  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("event_id", eventId);
    if (username != null) {
      j.put("username", username);
    }
    return j.put("link_id", linkId).put("ts", ts).put("source", source);
  }

  /**
   * A journal line: its {@code ts} was checked when the click was recorded, so it is its own reference (with 0 as the
   * reference, every time read as "past it" and became 0: replayed clicks counted in the minute of the replay).
   */
  public static ClickEvent fromJson(JsonObject j) {
    Object ts = j.getValue("ts");
    long own = readTs(ts == null ? null : ts.toString());
    return fromFields(Map.of(), j, own == Long.MIN_VALUE ? System.currentTimeMillis() : own);
  }

  /**
   * Reads a stream entry's fields (or a journal line); {@code null} when it is not a usable click: no event or link
   * id (see {@link #usableId}). {@code ts} may be epoch ms, epoch seconds or ISO-8601 (LinkMe); unreadable, it falls
   * back to the stream entry's own time, {@code entryMs}.
   */
  public static ClickEvent fromFields(Map<String, String> fields, long entryMs) {
    return fromFields(fields, null, entryMs);
  }

  private static ClickEvent fromFields(Map<String, String> fields, JsonObject json, long entryMs) {
    String id = value(fields, json, "event_id");
    String link = value(fields, json, "link_id");
    if (!usableId(id) || !usableLinkId(link)) {
      return null;
    }
    String user = value(fields, json, "username");
    String source = value(fields, json, "source");
    long ts = parseTs(value(fields, json, "ts"), entryMs);
    return new ClickEvent(id, user == null || user.isEmpty() ? null : user, link, ts,
      source == null || source.isEmpty() ? SOURCE_REDIRECT : source);
  }

  private static String value(Map<String, String> fields, JsonObject json, String key) {
    if (json != null) {
      Object v = json.getValue(key);
      return v == null ? null : v.toString();
    }
    return fields.get(key);
  }

  /** 2000-01-01T00:00:00Z: no click before it is believed. */
  static final long EARLIEST_MS = 946_684_800_000L;
  /** How far past its delivery's arrival a click's time may lie: clock skew. */
  static final long FUTURE_SLACK_MS = 300_000;

  /**
   * Epoch ms from epoch ms, epoch seconds or ISO-8601 text; {@code fallback} (the arrival) when unreadable or not
   * believable: before {@link #EARLIEST_MS}, or more than {@link #FUTURE_SLACK_MS} after {@code fallback}. An instant
   * no millisecond count holds ({@code +999999999-12-31T23:59:59Z}) is unreadable, not a failure of the handler.
   */
  public static long parseTs(String raw, long fallback) {
    long ms = readTs(raw);
    return ms == Long.MIN_VALUE || ms < EARLIEST_MS || ms > fallback + FUTURE_SLACK_MS ? fallback : ms;
  }

  /** The time {@code raw} names in epoch ms, or {@link Long#MIN_VALUE} when it names none. */
  private static long readTs(String raw) {
    if (raw == null || raw.isBlank()) {
      return Long.MIN_VALUE;
    }
    String s = raw.trim();
    try {
      double n = Double.parseDouble(s);
      if (!Double.isFinite(n)) {
        return Long.MIN_VALUE;
      }
      // Below ~5138 AD in seconds, above 1973 in ms: a bare number under 1e11 is epoch seconds.
      return n < 1e11 ? (long) (n * 1000) : (long) n;
    } catch (NumberFormatException notNumeric) {
      try {
        return Instant.parse(s).toEpochMilli();
      } catch (DateTimeParseException | ArithmeticException notIso) {
        try {
          return OffsetDateTime.parse(s).toInstant().toEpochMilli();
        } catch (DateTimeParseException | ArithmeticException e) {
          return Long.MIN_VALUE;
        }
      }
    }
  }
}
