package dev.biogate.support;

import dev.biogate.Gateway;
import dev.biogate.config.BiogateConfig;
import dev.biogate.config.SandboxOptions;
import dev.biogate.sandbox.SandboxServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * A sandbox upstream plus any number of gateway instances on loopback, all on ephemeral ports, sharing one real
 * Redis. Tests talk to them over real HTTP only.
 */
public final class Harness {

  public final Vertx vertx;
  public final WebClient http;
  private final List<Gateway> gateways = new ArrayList<>();
  private SandboxServer sandbox;
  private String redisUrl;

  public Harness(Vertx vertx) {
    this.vertx = vertx;
    this.http = WebClient.create(vertx, new WebClientOptions().setDecompressionSupported(false), new PoolOptions().setHttp1MaxSize(500));
  }

  /** Starts the sandbox and flushes the shared Redis. */
  public Future<Harness> start() {
    return start(TestRedis.url(), new JsonObject());
  }

  public Future<Harness> start(String redisUrl, JsonObject sandboxOptions) {
    this.redisUrl = redisUrl;
    sandbox = new SandboxServer(new SandboxOptions(new JsonObject().put("port", 0).mergeIn(sandboxOptions)));
    Redis r = Redis.createClient(vertx, redisUrl);
    return vertx.deployVerticle(sandbox)
      .compose(id -> r.send(Request.cmd(Command.FLUSHDB)))
      .eventually(() -> {
        r.close();
        return Future.succeededFuture();
      })
      .map(this);
  }

  public int sandboxPort() {
    return sandbox.actualPort();
  }

  /**
   * Gateway config aimed at this harness: HTTP port 0, one event loop, this Redis and this sandbox; {@code overrides}
   * are merged over it (section by section).
   */
  public BiogateConfig config(JsonObject overrides) {
    JsonObject base = new JsonObject()
      .put("http", new JsonObject().put("port", 0).put("instances", 1))
      .put("redis", new JsonObject().put("url", redisUrl))
      .put("linktree", new JsonObject().put("apiBase", "http://127.0.0.1:" + sandboxPort())
        .put("token", SandboxOptions.DEFAULT_TOKEN).put("retryBaseDelayMs", 10).put("retryMaxDelayMs", 50));
    for (String section : overrides.fieldNames()) {
      JsonObject target = base.getJsonObject(section);
      if (target == null) {
        base.put(section, overrides.getJsonObject(section).copy());
      } else {
        target.mergeIn(overrides.getJsonObject(section));
      }
    }
    return new BiogateConfig(base);
  }

  public Future<Gateway> gateway(JsonObject overrides, LongSupplier clock) {
    return Gateway.start(vertx, config(overrides), clock).onSuccess(gateways::add);
  }

  public Future<Gateway> gateway(JsonObject overrides) {
    return gateway(overrides, System::currentTimeMillis);
  }

  public Future<HttpResponse<Buffer>> get(Gateway g, String path) {
    return http.get(g.port(), "127.0.0.1", path).send();
  }

  /** Upstream requests the sandbox has counted for a path (e.g. {@code /profiles/demo}). */
  public Future<Integer> upstreamCalls(String path) {
    return sandboxStats().map(s -> s.getJsonObject("by_path", new JsonObject()).getInteger(path, 0));
  }

  public Future<JsonObject> sandboxStats() {
    return http.get(sandboxPort(), "127.0.0.1", "/__sandbox/stats").send().map(HttpResponse::bodyAsJsonObject);
  }

  public Future<Void> fault(JsonObject fault) {
    return http.post(sandboxPort(), "127.0.0.1", "/__sandbox/faults").sendJsonObject(fault).compose(r ->
      r.statusCode() == 200 ? Future.succeededFuture() : Future.failedFuture("fault not accepted: " + r.bodyAsString()));
  }

  public Future<Void> putProfile(String username, JsonObject profile) {
    return http.put(sandboxPort(), "127.0.0.1", "/__sandbox/profiles/" + username).sendJsonObject(profile).compose(r ->
      r.statusCode() == 200 ? Future.succeededFuture() : Future.failedFuture("profile not accepted: " + r.bodyAsString()));
  }

  public Future<Void> close() {
    List<Future<Void>> closing = new ArrayList<>();
    gateways.forEach(g -> closing.add(g.close()));
    return Future.join(closing).mapEmpty();
  }
}
