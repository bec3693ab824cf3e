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

  private SandboxProfile profile(String username) {
    return state.profiles().get(username)
      .orElseThrow(() -> SandboxException.notFound("no profile named " + username));
  }
}
