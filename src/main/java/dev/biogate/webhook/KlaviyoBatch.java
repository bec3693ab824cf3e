package dev.biogate.webhook;

import dev.biogate.http.ApiException;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A verified Klaviyo delivery read into its events: {@code {"data":[{"topic","external_id","payload"}...],
 * "meta":{"klaviyo_webhook_id",...}}}. Only called after the signature check, so nothing unsigned is parsed.
 * The unsigned {@code Klaviyo-Webhook-Id} header must name the signed {@code meta.klaviyo_webhook_id} (else 403): a
 * batch signed for one webhook cannot be presented as another's. Events repeating an {@code external_id} inside the
 * batch are kept once and counted as duplicates.
 */
final class KlaviyoBatch {

  static final String PROVIDER = "klaviyo";
  static final int MAX_EVENTS = 1000;

  static final ApiException MALFORMED = new ApiException(400, "malformed_json", "the body is not a JSON object");
  static final ApiException FIELDS = new ApiException(400, "invalid_envelope",
    "a Klaviyo batch needs an array 'data' of events (each with a string 'topic', an 'external_id' string or integer and an"
      + " object 'payload') and an object 'meta' with 'klaviyo_webhook_id'");
  static final ApiException TOO_MANY = new ApiException(400, "too_many_events", "a Klaviyo batch holds at most "
    + MAX_EVENTS + " events");
  static final ApiException WEBHOOK_MISMATCH = new ApiException(403, "webhook_id_mismatch",
    "Klaviyo-Webhook-Id does not match meta.klaviyo_webhook_id");

  /** One event to queue: its dedupe id, its topic, and the event object as JSON text (the stream entry body). */
  record Event(String externalId, String topic, String body) {
  }

  final List<Event> events;
  /** Events dropped because an earlier event of the same batch had their {@code external_id}. */
  final int repeatsInBatch;

  private KlaviyoBatch(List<Event> events, int repeatsInBatch) {
    this.events = events;
    this.repeatsInBatch = repeatsInBatch;
  }

  /** Characters (code points) in {@code s}, which Java counts in UTF-16 units: an emoji is one, not two. */
  private static int characters(String s) {
    return s.codePointCount(0, s.length());
  }

  static KlaviyoBatch parse(MultiMap headers, Buffer raw) {
    JsonObject json;
    try {
      Object value = raw.toJsonValue();
      if (!(value instanceof JsonObject)) {
        throw MALFORMED;
      }
      json = (JsonObject) value;
    } catch (DecodeException | IllegalArgumentException e) {
      throw Envelopes.malformed(e);
    }
    // The signed meta.klaviyo_webhook_id must equal the header, else 403: one that is absent (no meta at all), not
    // a string or empty does not (it used to be a 400, as if the batch were only badly shaped).
    Object meta = json.getValue("meta");
    Object webhookId = meta instanceof JsonObject ? ((JsonObject) meta).getValue("klaviyo_webhook_id") : null;
    if (!(webhookId instanceof String) || ((String) webhookId).isEmpty()
      || !webhookId.equals(headers.get(KlaviyoVerifier.WEBHOOK_ID_HEADER))) {
      throw WEBHOOK_MISMATCH;
    }
    Object data = json.getValue("data");
    if (!(data instanceof JsonArray)) {
      throw FIELDS;
    }
    JsonArray array = (JsonArray) data;
    if (array.size() > MAX_EVENTS) {
      throw TOO_MANY;
    }
    Map<String, Event> unique = new LinkedHashMap<>();
    for (int i = 0; i < array.size(); i++) {
      Object item = array.getValue(i);
      if (!(item instanceof JsonObject)) {
        throw FIELDS;
      }
      JsonObject e = (JsonObject) item;
      String id = Envelopes.idText(e.getValue("external_id"));
      Object topic = e.getValue("topic");
      if (!Envelopes.validId(id) || !(topic instanceof String) || ((String) topic).isEmpty() || characters((String) topic) > 100
        || dev.biogate.profile.ProfileSanitizer.loneSurrogate((String) topic)
        || !(e.getValue("payload") instanceof JsonObject)) {
        throw FIELDS;
      }
      unique.putIfAbsent(id, new Event(id, (String) topic, e.encode()));
    }
    return new KlaviyoBatch(List.copyOf(new ArrayList<>(unique.values())), array.size() - unique.size());
  }
}
