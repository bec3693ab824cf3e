package dev.biogate.sandbox;

import dev.biogate.config.SandboxOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.List;

/**
 * A simulated Linktree API for tests, demos and load scripts. It serves
 * {@code GET /health}, {@code /me}, {@code /profiles/{username}} and {@code /profiles/{username}/links?cursor=C}, the link writes ({@code POST /links}, {@code PATCH|DELETE /links/{id}},
 * idempotent per {@code Idempotency-Key}: {@link SandboxWrites}) and the webhook subscriptions
 * ({@code GET|POST /webhooks}, {@code DELETE /webhooks/{id}}, {@code POST /webhooks/{id}/enable}: {@link SandboxWebhooks});
 * every API request needs {@code Authorization: Bearer <token>}, is limited per token (an exact sliding log
 * of {@code rateLimitPerMin} per {@code rateWindowMs}, answered {@code 429} with {@code Retry-After}) and every
 * API answer carries {@code X-RateLimit-Remaining}. The {@code /__sandbox} endpoints (stats, faults,
 * profile replacement, reset) need no token and are never limited, counted or faulted. Errors are
 * {@code {"error","message"}} JSON.
 *
 * <p>The same server also plays Klaviyo's events API for the Klaviyo sink ({@link SandboxKlaviyo}: {@code /api/events/},
 * {@code /api/accounts/}, {@code /__sandbox/klaviyo/*}).
 *
 * <p>Deployment fails if the port cannot be bound; with port 0, read {@link #actualPort()} after it.
 */
public final class SandboxServer extends VerticleBase {

  /** The demo profiles it serves from the start: the creators a zero-config deployment serves. */
  public static final List<String> DEMO_NAMES = List.of("demo", "alice", "bob");

  private static final long MAX_BODY_BYTES = 1024 * 1024;

  private final SandboxOptions options;
  private final SandboxState state;
  private final SandboxKlaviyo klaviyo;
  private volatile HttpServer server;

  public SandboxServer(SandboxOptions options) {
    this(options, SandboxKlaviyoOptions.defaults());
  }

  /** Also plays Klaviyo's events API ({@link SandboxKlaviyo}) with these settings. */
  public SandboxServer(SandboxOptions options, SandboxKlaviyoOptions klaviyoOptions) {
    this.options = options;
    this.state = new SandboxState(options);
    this.klaviyo = new SandboxKlaviyo(klaviyoOptions);
  }

  @Override
  public Future<?> start() {
    return vertx.createHttpServer()
      .requestHandler(router())
      .listen(options.port(), options.host())
      .onSuccess(s -> server = s)
      .mapEmpty();
  }

  /** The port the server listens on; meaningful once deployment has succeeded. */
  public int actualPort() {
    HttpServer s = server;
    if (s == null) {
      throw new IllegalStateException("sandbox server is not listening");
    }
    return s.actualPort();
  }

  /** The sandbox's live state, for driving it in-process. */
  public SandboxState state() {
    return state;
  }

  /** The simulated Klaviyo API, for driving it in-process. */
  public SandboxKlaviyo klaviyo() {
    return klaviyo;
  }

  private Router router() {
    Router router = Router.router(vertx);
    SandboxAdmin admin = new SandboxAdmin(state);
    router.route("/__sandbox/*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
    router.get("/__sandbox/stats").handler(admin::stats);
    router.get("/__sandbox/faults").handler(admin::faults);
    router.post("/__sandbox/faults").handler(admin::setFaults);
    router.put("/__sandbox/profiles/:username").handler(admin::putProfile);
    router.post("/__sandbox/reset").handler(admin::reset);
    router.get("/__sandbox/writes").handler(ctx -> SandboxJson.ok(ctx, state.writes().toJson()));
    router.post("/__sandbox/webhooks/:id/disable").handler(ctx -> SandboxJson.ok(ctx,
      state.webhooks().setEnabled(ctx.pathParam("id"), false)));
    klaviyo.mount(router);
    router.route("/__sandbox/*").handler(ctx -> ctx.fail(SandboxException.notFound("no such sandbox endpoint")));

    SandboxApi api = new SandboxApi(state);
    // Bodies are read before the gate: its simulated latency is a timer, and a body arriving meanwhile would be lost.
    router.route().method(HttpMethod.POST).method(HttpMethod.PATCH).handler(BodyHandler.create(false).setBodyLimit(64 * 1024));
    router.route().handler(new SandboxGate(vertx, state, options.token(), options.authenticateHealth()));
    router.get("/health").handler(api::health);
    router.get("/me").handler(api::me);
    router.get("/profiles/:username").handler(api::profile);
    router.get("/profiles/:username/links").handler(api::links);
    router.post("/links").handler(api::createLink);
    router.patch("/links/:id").handler(api::updateLink);
    router.delete("/links/:id").handler(api::deleteLink);
    router.get("/webhooks").handler(api::listWebhooks);
    router.post("/webhooks").handler(api::registerWebhook);
    router.delete("/webhooks/:id").handler(api::deleteWebhook);
    router.post("/webhooks/:id/enable").handler(api::enableWebhook);
    router.route().handler(ctx -> ctx.fail(SandboxException.notFound("no such endpoint")));

    router.route().failureHandler(new SandboxFailureHandler());
    return router;
  }
}
