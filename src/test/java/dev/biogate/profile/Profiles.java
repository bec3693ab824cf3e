package dev.biogate.profile;

import dev.biogate.Gateway;
import dev.biogate.support.Harness;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** Test profiles the sandbox serves, and the webhook announcing a change to one, end to end over HTTP. */
final class Profiles {

  static final String AVATAR = "https://cdn.example.net/avatars/race.png";

  private Profiles() {
  }

  /** A sandbox profile with 12 links: two upstream requests ({@code /profiles/u}, then {@code /profiles/u/links}). */
  static JsonObject withBio(String bio) {
    JsonArray links = new JsonArray();
    for (int i = 0; i < 12; i++) {
      links.add(new JsonObject().put("id", "l" + i).put("title", "Link " + i).put("url", "https://example.com/" + i));
    }
    return new JsonObject().put("bio", bio).put("avatar_url", AVATAR).put("theme", "dusk").put("links", links);
  }

  /** The bio a gateway serves for {@code username} now (fails unless the answer is a 200). */
  static Future<String> bio(Harness h, Gateway g, String username) {
    return h.get(g, "/v1/profiles/" + username).compose(r -> r.statusCode() == 200
      ? Future.succeededFuture(r.bodyAsJsonObject().getString("bio"))
      : Future.failedFuture("GET " + username + " answered " + r.statusCode() + " " + r.bodyAsString()));
  }

  /**
   * Delivers a signed, complete {@code profile.updated} through {@code g}'s real webhook endpoint and completes once
   * the gateway reports it handled.
   */
  static Future<Void> announceBio(Harness h, Gateway g, String deliveryId, String username, String bio) {
    JsonObject data = new JsonObject().put("username", username).put("bio", bio).put("avatar_url", AVATAR).put("theme", "dusk");
    return announce(h, g, deliveryId, data);
  }

  /** Like {@link #announceBio} with any {@code profile.updated} payload (complete or not). */
  static Future<Void> announce(Harness h, Gateway g, String deliveryId, JsonObject data) {
    Buffer body = Deliveries.linktreeEvent("profile.updated", data);
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(deliveryId, body), body).compose(r -> r.statusCode() == 200
        ? Future.succeededFuture() : Future.failedFuture("webhook answered " + r.statusCode() + " " + r.bodyAsString()))
      .compose(v -> h.eventually(() -> h.http.get(g.managementPort(), "127.0.0.1", "/admin/deliveries/" + deliveryId)
        .bearerTokenAuthentication(Deliveries.ADMIN_TOKEN).send()
        .map(r -> r.statusCode() == 200 && "handled".equals(r.bodyAsJsonObject().getString("outcome"))), 5_000));
  }

  /** Completes once {@code g} has no resolution of {@code username} in flight (its fetch has published or failed). */
  static Future<Void> settled(Harness h, Gateway g, String username) {
    return h.eventually(() -> Future.succeededFuture(!g.profiles().resolving(username)), 10_000);
  }
}
