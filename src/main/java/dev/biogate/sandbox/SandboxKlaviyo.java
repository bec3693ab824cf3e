package dev.biogate.sandbox;

import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.UUID;

/**
 * A simulated Klaviyo API for the sink: {@code POST /api/events/} (answers {@code 202} like Klaviyo) and
 * {@code GET /api/accounts/} (the key check health and preflight use). Each request is, in order: faulted if a fault
 * is set; {@code 401} without {@code Authorization: Klaviyo-API-Key <the sandbox key>}; {@code 400} without
 * {@code revision: 2024-10-15}; for events, {@code 415} without {@code Content-Type: application/vnd.api+json},
 * {@code 429} with {@code Retry-After} over the rate limit, {@code 400} for a body Klaviyo would refuse. Errors are
 * JSON:API {@code {"errors":[{"status","code","title","detail","source"}]}}. Control endpoints, never limited or
 * counted: {@code GET /__sandbox/klaviyo/stats}, {@code POST /__sandbox/klaviyo/faults}, {@code POST /__sandbox/klaviyo/reset}.
 */
public final class SandboxKlaviyo {

  public static final String REVISION = "2024-10-15";
  static final String JSON_API = "application/vnd.api+json";
  private static final long MAX_BODY_BYTES = 5 * 1024 * 1024;

  private final byte[] key;
  private final SandboxKlaviyoFaults faults = new SandboxKlaviyoFaults();
  private final SandboxKlaviyoStats stats;
  private final SandboxRateLimiter limiter;

  public SandboxKlaviyo(SandboxKlaviyoOptions options) {
    this.key = ("Klaviyo-API-Key " + options.key()).getBytes(StandardCharsets.UTF_8);
    this.stats = new SandboxKlaviyoStats(options.recent(), options.rateWindowMs());
    this.limiter = new SandboxRateLimiter(options.ratePerSec(), options.rateWindowMs());
  }

  /** Mounts the API and its control endpoints; call before the Linktree gate and the {@code /__sandbox} fallback. */
  void mount(Router router) {
    router.get("/__sandbox/klaviyo/stats").handler(ctx -> SandboxJson.ok(ctx, stats.toJson()));
    router.post("/__sandbox/klaviyo/faults").handler(this::setFaults);
    router.post("/__sandbox/klaviyo/reset").handler(ctx -> {
      reset();
      SandboxJson.ok(ctx, new JsonObject().put("status", "reset"));
    });
    router.post("/api/events").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES)).handler(this::event);
    router.post("/api/events/").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES)).handler(this::event);
    router.get("/api/accounts").handler(this::accounts);
    router.get("/api/accounts/").handler(this::accounts);
  }

  public SandboxKlaviyoStats stats() { return stats; }
  public SandboxKlaviyoFaults faults() { return faults; }

  public void reset() {
    stats.reset();
    faults.reset();
    limiter.reset();
  }

  private void event(RoutingContext ctx) {
    JsonObject headers = new JsonObject().put("revision", ctx.request().getHeader("revision"))
      .put("content_type", ctx.request().getHeader("Content-Type")).put("accept", ctx.request().getHeader("Accept"))
      .put("authorized", authorized(ctx));
    SandboxException refused = gate(ctx, true);
    if (refused != null) {
      error(ctx.response(), refused, "/data/");
      stats.recordEvent(refused.status, null, headers, null);
      return;
    }
    JsonObject body = parse(ctx);
    SandboxKlaviyoValidator.Problem p = body == null ? new SandboxKlaviyoValidator.Problem("/data", "body must be a JSON object")
      : SandboxKlaviyoValidator.check(body);
    if (p != null) {
      error(ctx.response(), new SandboxException(400, "invalid", p.detail()), p.pointer());
      stats.recordEvent(400, null, headers, null);
      return;
    }
    String uniqueId = body.getJsonObject("data").getJsonObject("attributes").getString("unique_id");
    stats.recordEvent(202, uniqueId, headers, body);
    ctx.response().setStatusCode(202).end();
  }

  private static JsonObject parse(RoutingContext ctx) {
    try {
      return ctx.body() == null || ctx.body().buffer() == null ? null : new JsonObject(ctx.body().buffer());
    } catch (DecodeException | ClassCastException e) {
      return null;
    }
  }

  private void accounts(RoutingContext ctx) {
    stats.recordAccounts();
    SandboxException refused = gate(ctx, false);
    if (refused != null) {
      error(ctx.response(), refused, "/");
      return;
    }
    JsonObject account = new JsonObject().put("type", "account").put("id", "SANDBOX")
      .put("attributes", new JsonObject().put("contact_information", new JsonObject().put("organization_name", "biogate sandbox")));
    ctx.response().setStatusCode(200).putHeader("Content-Type", JSON_API)
      .end(new JsonObject().put("data", new JsonArray().add(account)).toBuffer());
  }

  /** The first reason to refuse the request, or {@code null}. */
  private SandboxException gate(RoutingContext ctx, boolean event) {
    SandboxException fault = faults.failure();
    if (fault != null) {
      return fault;
    }
    if (!authorized(ctx)) {
      return new SandboxException(401, "not_authenticated", "Missing or invalid private key.");
    }
    if (!REVISION.equals(ctx.request().getHeader("revision"))) {
      return new SandboxException(400, "invalid_revision", "revision header must be " + REVISION);
    }
    if (!event) {
      return null;
    }
    String type = ctx.request().getHeader("Content-Type");
    if (type == null || !type.toLowerCase().startsWith(JSON_API)) {
      return new SandboxException(415, "unsupported_media_type", "Content-Type must be " + JSON_API);
    }
    SandboxRateLimiter.Decision d = limiter.tryAcquire("klaviyo");
    return d.allowed() ? null : new SandboxException(429, "throttled", "Request was throttled.", d.retryAfterSeconds());
  }

  private boolean authorized(RoutingContext ctx) {
    String presented = ctx.request().getHeader("Authorization");
    return presented != null && MessageDigest.isEqual(key, presented.getBytes(StandardCharsets.UTF_8));
  }

  private static void error(HttpServerResponse response, SandboxException e, String pointer) {
    if (e.status == 429) {
      response.putHeader("Retry-After", Long.toString(e.retryAfterSeconds));
    }
    JsonObject error = new JsonObject().put("id", UUID.randomUUID().toString()).put("status", e.status).put("code", e.code)
      .put("title", e.getMessage()).put("detail", e.getMessage()).put("source", new JsonObject().put("pointer", pointer));
    response.setStatusCode(e.status).putHeader("Content-Type", JSON_API)
      .end(new JsonObject().put("errors", new JsonArray().add(error)).toBuffer());
  }

  private void setFaults(RoutingContext ctx) {
    try {
      SandboxKlaviyoFaults.Fault s = SandboxKlaviyoFaults.Fault.fromJson(SandboxJson.bodyObject(ctx));
      faults.set(s);
      SandboxJson.ok(ctx, s.toJson());
    } catch (IllegalArgumentException e) {
      throw SandboxException.badRequest("invalid_faults", e.getMessage());
    }
  }
}
