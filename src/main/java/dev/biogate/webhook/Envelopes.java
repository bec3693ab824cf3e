package dev.biogate.webhook;

import dev.biogate.crypto.Sha256;
import dev.biogate.http.ApiException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * Reads the envelope of a delivery whose signature has already been verified: the JSON must parse and carry the
 * provider's required fields, else 400. Only called after verification, so nothing unsigned is ever parsed.
 */
public final class Envelopes {

  static final String DELIVERY_ID_HEADER = "x-linktree-delivery-id";
  private static final int MAX_ID_LENGTH = 200;
  private static final int MAX_TYPE_LENGTH = 100;
  private static final JsonFactory JSON = new JsonFactory();

  static final ApiException MALFORMED = new ApiException(400, "malformed_json", "the body is not a JSON object");
  static final ApiException BEYOND_LIMITS = new ApiException(400, "malformed_json",
    "the body nests deeper than 1,000 levels or holds a number or string longer than the parser accepts");

  /** {@link #BEYOND_LIMITS} when the parser refused {@code err} on a limit (a deep body is still an object), else {@link #MALFORMED}. */
  static ApiException malformed(Throwable err) {
    for (Throwable c = err; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof com.fasterxml.jackson.core.exc.StreamConstraintsException) {
        return BEYOND_LIMITS;
      }
    }
    return MALFORMED;
  }
  static final ApiException NO_DELIVERY_ID = new ApiException(400, "missing_delivery_id",
    "x-linktree-delivery-id is required: 1-200 visible ASCII characters");
  static final ApiException INVALID_DELIVERY_ID = new ApiException(400, "invalid_delivery_id",
    "x-linktree-delivery-id must be 1-200 visible ASCII characters");
  static final ApiException LINKTREE_FIELDS = new ApiException(400, "invalid_envelope",
    "a Linktree event needs a string 'type' and an object 'data'");
  static final ApiException LINKME_FIELDS = new ApiException(400, "invalid_envelope",
    "a LinkMe envelope needs an 'id' of 1-200 characters, a string 'event' and an object 'data'");

  private Envelopes() {
  }

  /** A verified Linktree delivery; its delivery id was checked with the request head ({@link #validId}). */
  static Delivery linktree(MultiMap headers, Buffer raw) {
    String id = headers.get(DELIVERY_ID_HEADER);
    String type = linktreeType(raw);
    if (type == null || !validType(type)) {
      throw LINKTREE_FIELDS;
    }
    // The delivery id header is not covered by the signature: key the delivery by the signature too, so a captured
    // body replayed under a fresh delivery id is still a duplicate.
    String signature = headers.get(LinktreeVerifier.SIGNATURE_HEADER);
    return new Delivery(Delivery.LINKTREE, id, type, List.of(Delivery.marker("id", id),
      Delivery.marker("sig", sha256(signature))), contentDigest(Delivery.LINKTREE, raw), raw);
  }

  /**
   * LinkMe signs no clock: replays are stopped by deduplicating the signed envelope id for the dedupe window
   * ({@code webhooks.dedupeWindowS}). The envelope's {@code ts} is the event's time, not the delivery's, and is not
   * checked: a provider retrying an old event, or re-sending it after an outage, is still received once.
   */
  /**
   * An event id as text: a string, or an integer read as its decimal digits (5 and "5" name the same event); else
   * {@code null}. A fraction or an exponent is no id: read through a double, 1e400 and 2e400 (both Infinity), or
   * 51241.000000000000000001 and 51241.0, would name one event.
   */
  static String idText(Object raw) {
    return raw instanceof String || raw instanceof Integer || raw instanceof Long || raw instanceof BigInteger
      ? raw.toString() : null;
  }

  static Delivery linkme(Buffer raw) {
    JsonObject json = parse(raw);
    String id = idText(json.getValue("id"));
    Object event = json.getValue("event");
    if (!validId(id) || !(event instanceof String) || !validType((String) event) || !(json.getValue("data") instanceof JsonObject)) {
      throw LINKME_FIELDS;
    }
    return new Delivery(Delivery.LINKME, id, (String) event, List.of(Delivery.marker("id", id)),
      contentDigest(Delivery.LINKME, raw), raw);
  }

  /**
   * The digest of a delivery's content, which picks its shard: SHA-256 of the provider and the raw body bytes, so a
   * retry (re-signed under the same id, the body unchanged) lands where the first attempt did. It is no dedupe
   * marker: two deliveries may share a body (a change back to an earlier state), and the second is a new one.
   */
  static String contentDigest(String provider, Buffer raw) {
    MessageDigest sha = Sha256.digest();
    sha.update(provider.getBytes(StandardCharsets.US_ASCII));
    sha.update((byte) 0);
    sha.update(raw.getBytes());
    return HexFormat.of().formatHex(sha.digest());
  }

  /**
   * The {@code type} of a Linktree event, or {@code null} when it has no string {@code type} or no object
   * {@code data}; {@link #MALFORMED} unless the body is one JSON object. One pass of a streaming parser over the
   * top-level fields, skipping the values it does not need: no tree is built on the ingest path (the handler parses
   * the body later). Skipping is iterative and Jackson bounds nesting depth and token sizes, so hostile bodies cost
   * linear time. As with a tree, a repeated field counts by its last value.
   */
  static String linktreeType(Buffer raw) {
    try (JsonParser p = JSON.createParser(raw.getBytes())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw MALFORMED;
      }
      String type = null;
      boolean data = false;
      for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if ("type".equals(field)) {
          type = value == JsonToken.VALUE_STRING ? p.getText() : null;
        } else if ("data".equals(field)) {
          data = value == JsonToken.START_OBJECT;
        }
        p.skipChildren();
      }
      if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw MALFORMED;
      }
      return data ? type : null;
    } catch (IOException e) {
      throw malformed(e);
    }
  }

  private static JsonObject parse(Buffer raw) {
    try {
      Object value = raw.toJsonValue();
      if (value instanceof JsonObject) {
        return (JsonObject) value;
      }
    } catch (DecodeException | IllegalArgumentException e) {
      throw malformed(e);
    }
    throw MALFORMED;
  }

  /** Ids become Redis key parts and admin URL segments: visible ASCII only, bounded. */
  public static boolean validId(String id) {
    if (id == null || id.isEmpty() || id.length() > MAX_ID_LENGTH) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  private static boolean validType(String type) {
    return !type.isEmpty() && type.length() <= MAX_TYPE_LENGTH;
  }

  private static String sha256(String s) {
    return Sha256.hex(s.getBytes(StandardCharsets.ISO_8859_1));
  }
}
