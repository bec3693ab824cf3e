package dev.biogate.sandbox;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * The {@code /__sandbox} control endpoints for tests, demos and load scripts. They need no token and are
 * never rate-limited, counted or faulted.
 */
final class SandboxAdmin {

  private final SandboxState state;

  SandboxAdmin(SandboxState state) {
    this.state = state;
  }

  /** {@code GET /__sandbox/stats}. */
  void stats(RoutingContext ctx) {
    SandboxJson.ok(ctx, state.stats().toJson());
  }

  /** {@code GET /__sandbox/faults}: the current fault settings. */
  void faults(RoutingContext ctx) {
    SandboxJson.ok(ctx, state.faults().get().toJson());
  }

  /** {@code POST /__sandbox/faults}: replaces the fault settings and answers them. */
  void setFaults(RoutingContext ctx) {
    SandboxFaults.Fault settings;
    try {
      settings = SandboxFaults.Fault.fromJson(SandboxJson.bodyObject(ctx));
    } catch (IllegalArgumentException e) {
      throw SandboxException.badRequest("invalid_faults", e.getMessage());
    }
    state.faults().set(settings);
    SandboxJson.ok(ctx, settings.toJson());
  }

  /** {@code PUT /__sandbox/profiles/:username}: creates or replaces a profile, answering what was stored. */
  void putProfile(RoutingContext ctx) {
    SandboxProfile profile;
    try {
      profile = SandboxProfile.fromJson(ctx.pathParam("username"), SandboxJson.bodyObject(ctx));
    } catch (IllegalArgumentException e) {
      throw SandboxException.badRequest("invalid_profile", e.getMessage());
    }
    state.profiles().put(profile);
    SandboxJson.ok(ctx, profile.toFullJson());
  }

  /** {@code POST /__sandbox/reset}. */
  void reset(RoutingContext ctx) {
    state.reset();
    SandboxJson.ok(ctx, new JsonObject().put("status", "reset"));
  }
}
