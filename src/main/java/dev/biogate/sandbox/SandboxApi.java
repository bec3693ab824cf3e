package dev.biogate.sandbox;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** The simulated Linktree endpoints, reached only through {@link SandboxGate}. */
final class SandboxApi {

  private final SandboxState state;

  SandboxApi(SandboxState state) {
    this.state = state;
  }

  /** {@code GET /health}. */
  void health(RoutingContext ctx) {
    SandboxJson.ok(ctx, new JsonObject().put("status", "ok"));
  }

  /** {@code GET /me}: the token's own profile. */
  void me(RoutingContext ctx) {
    SandboxJson.ok(ctx, profile(SandboxProfiles.OWN_USERNAME).toJson(state.pageSize()));
  }

  /** {@code GET /profiles/:username}: profile fields, the first page of links and the next cursor. */
  void profile(RoutingContext ctx) {
    SandboxJson.ok(ctx, profile(ctx.pathParam("username")).toJson(state.pageSize()));
  }

  /** {@code GET /profiles/:username/links?cursor=C}: one page of links. */
  void links(RoutingContext ctx) {
    SandboxProfile profile = profile(ctx.pathParam("username"));
    int offset = SandboxCursor.decode(ctx.request().getParam("cursor"));
    SandboxJson.ok(ctx, profile.linksPage(offset, state.pageSize()));
  }

  /** {@code POST /links}. */
  void createLink(RoutingContext ctx) {
    answer(ctx, state.writes().create(key(ctx), SandboxJson.bodyObject(ctx)));
  }

  /** {@code PATCH /links/:id}. */
  void updateLink(RoutingContext ctx) {
    answer(ctx, state.writes().update(key(ctx), ctx.pathParam("id"), SandboxJson.bodyObject(ctx)));
  }

  /** {@code DELETE /links/:id}. */
  void deleteLink(RoutingContext ctx) {
    answer(ctx, state.writes().delete(key(ctx), ctx.pathParam("id")));
  }

  /** {@code GET /webhooks}. */
  void listWebhooks(RoutingContext ctx) {
    SandboxJson.ok(ctx, state.webhooks().list());
  }

  /** {@code POST /webhooks}. */
  void registerWebhook(RoutingContext ctx) {
    SandboxJson.send(ctx.response(), 201, state.webhooks().register(SandboxJson.bodyObject(ctx)));
  }

  /** {@code DELETE /webhooks/:id}. */
  void deleteWebhook(RoutingContext ctx) {
    SandboxJson.ok(ctx, state.webhooks().delete(ctx.pathParam("id")));
  }

  /** {@code POST /webhooks/:id/enable}. */
  void enableWebhook(RoutingContext ctx) {
    SandboxJson.ok(ctx, state.webhooks().setEnabled(ctx.pathParam("id"), true));
  }

  private static String key(RoutingContext ctx) {
    String k = ctx.request().getHeader("Idempotency-Key");
    return k == null || k.isBlank() || k.length() > 200 ? null : k;
  }

  private static void answer(RoutingContext ctx, SandboxWrites.Answer a) {
    SandboxJson.send(ctx.response(), a.status(), a.body().copy());
  }

  private SandboxProfile profile(String username) {
    return state.profiles().get(username)
      .orElseThrow(() -> SandboxException.notFound("no profile named " + username));
  }
}
