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
  private final List<Receiver> receivers = new ArrayList<>();
  private SandboxServer sandbox;
  private JsonObject redisSection;

  public Harness(Vertx vertx) {
    this.vertx = vertx;
    this.http = WebClient.create(vertx, new WebClientOptions().setDecompressionSupported(false), new PoolOptions().setHttp1MaxSize(500));
  }

  /** Starts the sandbox and flushes the shared Redis. */
  public Future<Harness> start() {
    return start(TestRedis.url(), new JsonObject());
  }

  /**
   * Starts the sandbox against a {@link Topology} (started on first use, shared by the test JVM) and empties it;
   * gateways from {@link #gateway} use it through their {@code redis} config section.
   */
  public Future<Harness> start(Topology topology) {
    return start(topology, new JsonObject());
  }

  /** Like {@link #start(Topology)}, with sandbox options (e.g. its own rate limit, to referee the budget). */
  public Future<Harness> start(Topology topology, JsonObject sandboxOptions) {
    sandbox = new SandboxServer(new SandboxOptions(new JsonObject().put("port", 0).mergeIn(sandboxOptions)));
    return vertx.executeBlocking(() -> {
        redisSection = topology.redisConfig();
        topology.flush();
        return null;
      })
      .compose(v -> vertx.deployVerticle(sandbox))
      .map(this);
  }

  /** Starts the sandbox; gateways use {@code redisSection}, a Redis of the test's own that is left as it is. */
  public Future<Harness> startOn(JsonObject redisSection) {
    this.redisSection = redisSection.copy();
    sandbox = new SandboxServer(new SandboxOptions(new JsonObject().put("port", 0)));
    return vertx.deployVerticle(sandbox).map(this);
  }

  /** Starts the sandbox (with {@code sandboxOptions}) and flushes the Redis at {@code redisUrl}. */
  public Future<Harness> start(String redisUrl, JsonObject sandboxOptions) {
    return start(redisUrl, sandboxOptions, dev.biogate.sandbox.SandboxKlaviyoOptions.defaults());
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
      // Tests are loopback clients: exempt from the edge limit unless a test configures it (the default is not exempt).
      .put("http", new JsonObject().put("port", 0).put("instances", 1)
        .put("inbound", new JsonObject().put("exemptLoopback", true))
        .put("management", new JsonObject().put("port", 0)))
      .put("redis", redisSection.copy())
      .put("analytics", new JsonObject().put("journal", new JsonObject().put("path", tempJournal())))
      .put("linktree", new JsonObject().put("apiBase", "http://127.0.0.1:" + sandboxPort())
        .put("token", SandboxOptions.DEFAULT_TOKEN).put("retryBaseDelayMs", 10).put("retryMaxDelayMs", 50)
        // Tests read many never-seen names from one loopback client; the per-client miss quota is tested on its own.
        .put("firstSight", new JsonObject().put("quotaBurst", 0)));
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

  /**
   * Each gateway journals clicks into its own temporary directory unless a test names a journal. The directories sit
   * under one root per test JVM, removed with everything in it when the JVM exits ({@code deleteOnExit} cannot remove
   * a directory that still holds a journal).
   */
  private static String tempJournal() {
    try {
      return java.nio.file.Files.createTempDirectory(JournalRoot.DIR, "gateway").resolve("clicks.journal").toString();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static final class JournalRoot {
    static final java.nio.file.Path DIR = create();

    private static java.nio.file.Path create() {
      try {
        java.nio.file.Path root = java.nio.file.Files.createTempDirectory("biogate-journals");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(root), "journal-cleanup"));
        return root;
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    private static void deleteTree(java.nio.file.Path root) {
      try (java.util.stream.Stream<java.nio.file.Path> paths = java.nio.file.Files.walk(root)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (java.io.IOException | java.io.UncheckedIOException e) {
        // Best effort: the OS cleans the temporary directory eventually.
      }
    }
  }

  public Future<Gateway> gateway(JsonObject overrides, LongSupplier clock) {
    return Gateway.start(vertx, config(overrides), clock).onSuccess(gateways::add);
  }

  public Future<Gateway> gateway(JsonObject overrides) {
    return gateway(overrides, System::currentTimeMillis);
  }

  public Future<HttpResponse<Buffer>> get(Gateway g, String path) {
    return http.get(portFor(g, path), "127.0.0.1", path).send();
  }

  /** Operator paths ({@code /metrics}, {@code /admin/*}) are served on the management port, the rest on the client port. */
  public static int portFor(Gateway g, String path) {
    return path.startsWith("/metrics") || path.startsWith("/admin") ? g.managementPort() : g.port();
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

  /** Closes every gateway this harness started, then every receiver (gateways may still be forwarding to them). */
  public Future<Void> close() {
    List<Future<Void>> closing = new ArrayList<>();
    gateways.forEach(g -> closing.add(g.close()));
    return Future.join(closing).transform(done -> {
      List<Future<Void>> receiving = new ArrayList<>();
      receivers.forEach(r -> receiving.add(r.close()));
      return Future.join(receiving).transform(v -> {
        List<Future<Void>> last = new ArrayList<>();
        closeLast.forEach(c -> last.add(c.get()));
        return Future.join(last);
      }).transform(v -> done.succeeded() ? Future.<Void>succeededFuture() : Future.<Void>failedFuture(done.cause()));
    });
  }

  private final List<java.util.function.Supplier<Future<Void>>> closeLast = new ArrayList<>();

  /** Runs {@code closer} at {@link #close()}, once every gateway and receiver is closed (e.g. a Redis they used). */
  public void closeLast(java.util.function.Supplier<Future<Void>> closer) {
    closeLast.add(closer);
  }

  /** A loopback {@link Receiver} (a destination) answering {@code status}; closed by {@link #close()}. */
  public Future<Receiver> receiver(int status) {
    Receiver r = new Receiver(vertx);
    r.status.set(status);
    return r.start().onSuccess(receivers::add);
  }

  // ---- Helpers for webhook, events and admin tests.

  /** POSTs {@code body} with {@code headers} to a gateway. */
  public Future<HttpResponse<Buffer>> post(Gateway g, String path, io.vertx.core.MultiMap headers, Buffer body) {
    return http.post(g.port(), "127.0.0.1", path).putHeaders(headers).sendBuffer(body);
  }

  /** See {@link Eventually}. */
  public Future<Void> eventually(java.util.function.Supplier<Future<Boolean>> condition, long timeoutMs) {
    return Eventually.until(vertx, condition, timeoutMs);
  }

  private Redis testRedis;

  /** Sends one command to this harness's Redis (a client of the test's own, released when the Vert.x instance closes). */
  public synchronized Future<io.vertx.redis.client.Response> redis(Request request) {
    if (testRedis == null) {
      testRedis = dev.biogate.redis.RedisClients.create(vertx, new dev.biogate.config.RedisConfig(redisSection));
    }
    return testRedis.send(request);
  }

  /** Closes one gateway now (an instance going away mid-test); {@link #close()} will not close it again. */
  public Future<Void> close(Gateway g) {
    gateways.remove(g);
    return g.close();
  }

  // ---- Klaviyo sandbox and analytics helpers (appended for the analytics and sink tests).

  /** Like {@link #start(String, JsonObject)}, with the sandbox's simulated Klaviyo API configured. */
  public Future<Harness> start(String redisUrl, JsonObject sandboxOptions, dev.biogate.sandbox.SandboxKlaviyoOptions klaviyo) {
    this.redisSection = new JsonObject().put("url", redisUrl);
    sandbox = new SandboxServer(new SandboxOptions(new JsonObject().put("port", 0).mergeIn(sandboxOptions)), klaviyo);
    Redis r = Redis.createClient(vertx, redisUrl);
    return vertx.deployVerticle(sandbox)
      .compose(id -> r.send(Request.cmd(Command.FLUSHDB)))
      .eventually(() -> {
        r.close();
        return Future.succeededFuture();
      })
      .map(this);
  }

  /** The sandbox's base URL (it also plays Klaviyo: {@code /api/events/}). */
  public String sandboxBase() {
    return "http://127.0.0.1:" + sandboxPort();
  }

  /** {@code GET /__sandbox/klaviyo/stats}. */
  public Future<JsonObject> klaviyoStats() {
    return http.get(sandboxPort(), "127.0.0.1", "/__sandbox/klaviyo/stats").send().map(HttpResponse::bodyAsJsonObject);
  }

  /** {@code POST /__sandbox/klaviyo/faults}. */
  public Future<Void> klaviyoFault(JsonObject fault) {
    return http.post(sandboxPort(), "127.0.0.1", "/__sandbox/klaviyo/faults").sendJsonObject(fault).compose(r ->
      r.statusCode() == 200 ? Future.succeededFuture() : Future.failedFuture("klaviyo fault not accepted: " + r.bodyAsString()));
  }

  /** A request to a gateway with {@code Authorization: Bearer <bearer>} (none when null); redirects are not followed. */
  public Future<HttpResponse<Buffer>> send(io.vertx.core.http.HttpMethod method, Gateway g, String path, String bearer) {
    io.vertx.ext.web.client.HttpRequest<Buffer> req = http.request(method, portFor(g, path), "127.0.0.1", path).followRedirects(false);
    if (bearer != null) {
      req.putHeader("Authorization", "Bearer " + bearer);
    }
    return req.send();
  }
}
