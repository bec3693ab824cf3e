package dev.biogate.sandbox;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The simulated webhook subscriptions of the token's account: {@code GET|POST /webhooks},
 * {@code DELETE /webhooks/:id}, {@code POST /webhooks/:id/enable}; {@code POST /__sandbox/webhooks/:id/disable}
 * plays Linktree's auto-disable after 72 h of failed deliveries. Thread-safe.
 */
public final class SandboxWebhooks {

  private final Map<String, JsonObject> byId = new LinkedHashMap<>();
  private final AtomicLong nextId = new AtomicLong(1);

  /** {@code {"data":[subscriptions]}}. */
  public synchronized JsonObject list() {
    JsonArray data = new JsonArray();
    byId.values().forEach(w -> data.add(w.copy()));
    return new JsonObject().put("data", data);
  }

  /** Registers {@code {"url","events":[...]}}; answers the subscription with its id. */
  public synchronized JsonObject register(JsonObject body) {
    Object url = body.getValue("url");
    Object events = body.getValue("events");
    if (!(url instanceof String) || !((String) url).matches("https?://[^\\s]{1,2000}")) {
      throw SandboxException.badRequest("invalid_url", "url must be an absolute http(s) URL");
    }
    if (!(events instanceof JsonArray) || ((JsonArray) events).isEmpty()) {
      throw SandboxException.badRequest("invalid_events", "events must be a non-empty array of event types");
    }
    for (Object e : (JsonArray) events) {
      if (!(e instanceof String) || ((String) e).isBlank()) {
        throw SandboxException.badRequest("invalid_events", "events must be strings");
      }
    }
    String id = "wh_" + nextId.getAndIncrement();
    JsonObject w = new JsonObject().put("id", id).put("url", url).put("events", ((JsonArray) events).copy())
      .put("enabled", true).put("created_at", Instant.now().toString());
    byId.put(id, w);
    return w.copy();
  }

  public synchronized JsonObject delete(String id) {
    if (byId.remove(id) == null) {
      throw SandboxException.notFound("no webhook " + id);
    }
    return new JsonObject().put("id", id).put("deleted", true);
  }

  /** Sets the subscription's enabled flag; answers it. */
  public synchronized JsonObject setEnabled(String id, boolean enabled) {
    JsonObject w = byId.get(id);
    if (w == null) {
      throw SandboxException.notFound("no webhook " + id);
    }
    w.put("enabled", enabled);
    return w.copy();
  }

  public synchronized void reset() {
    byId.clear();
  }
}
