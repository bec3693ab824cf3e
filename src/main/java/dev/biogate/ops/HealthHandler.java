package dev.biogate.ops;

import dev.biogate.redis.ClusterRedis;
import dev.biogate.redis.RedisErrors;
import dev.biogate.redis.RedisMemory;
import dev.biogate.upstream.LinktreeClient;
import dev.biogate.upstream.SharedBreaker;
import dev.biogate.sink.KlaviyoSink;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * {@code /health} (per-service status and latency; 200 unless down; Klaviyo only when enabled), {@code /health/live} (the process answers) and
 * {@code /health/ready} (Redis answers, or this instance holds copies it can serve without it).
 */
public final class HealthHandler {

  private static final long PROBE_TIMEOUT_MS = 1_000;
  /**
   * Redis's state and the peers' breaker are asked at most once per this period, however many probes come: /health
   * is open on the client port and never rate-limited, and each probe used to cost a Redis command (a client could
   * drive the shared Redis at its own request rate).
   */
  static final long FRESH_MS = 1_000;

  private final Redis redis;
  private final LinktreeClient upstream;
  private final Supplier<KlaviyoSink> klaviyo;
  private final BooleanSupplier holdsCopies;
  private final SharedBreaker sharedBreaker;
  private final IntSupplier unconfirmedShards;
  private final IntSupplier shardsWithoutReplica;
  private final IntSupplier refusingShards;
  private final IntSupplier awaitingReplicaShards;
  private final Recent<JsonObject> redisState = new Recent<>(FRESH_MS, System::currentTimeMillis, this::askRedis);
  private final Recent<Boolean> peerBreaker;

  /**
   * {@code klaviyo} yields the sink when it is enabled, else {@code null} (then it is not reported);
   * {@code holdsCopies} says whether this instance holds a profile copy it could serve (a remembered 404 is none);
   * {@code sharedBreaker} whether another instance's breaker to the upstream is open; {@code unconfirmedShards} how
   * many webhook shards refuse deliveries because no replica or Sentinel majority vouches for their master;
   * {@code refusingShards} how many refused their last delivery write (unreachable, loading, or no replica
   * acknowledging in time, as in a Cluster failover) with none accepted since; {@code awaitingReplicaShards} how many
   * refuse deliveries because their master lost its replica and is held until one is in sync.
   */
  public HealthHandler(Redis redis, LinktreeClient upstream, Supplier<KlaviyoSink> klaviyo, BooleanSupplier holdsCopies,
                       SharedBreaker sharedBreaker, IntSupplier unconfirmedShards, IntSupplier refusingShards,
                       IntSupplier shardsWithoutReplica, IntSupplier awaitingReplicaShards) {
    this.shardsWithoutReplica = shardsWithoutReplica;
    this.awaitingReplicaShards = awaitingReplicaShards;
    this.refusingShards = refusingShards;
    this.redis = redis;
    this.upstream = upstream;
    this.klaviyo = klaviyo;
    this.holdsCopies = holdsCopies;
    this.sharedBreaker = sharedBreaker;
    this.unconfirmedShards = unconfirmedShards;
    this.peerBreaker = new Recent<>(FRESH_MS, System::currentTimeMillis, sharedBreaker::openSomewhere);
  }

  public void mount(Router router) {
    router.get("/health/live").handler(ctx -> json(ctx.response(), 200, new JsonObject().put("status", "up")));
    router.get("/health/ready").handler(ctx -> redisStatus().onComplete(ar -> {
      // Ready while Redis answers (degraded included: a Cluster with a master or slots missing still serves), or while
      // this instance holds copies to serve. A Redis outage reaches every instance at once; failing readiness on all
      // of them would empty the balancer and turn "serve the last good copy" into no page at all. An instance with
      // neither (started during the outage) can serve nothing and is left out.
      boolean held = holdsCopies.getAsBoolean();
      boolean ok = !"down".equals(ar.result().getString("status")) || held;
      json(ctx.response(), ok ? 200 : 503, new JsonObject().put("status", ok ? "ready" : "not_ready")
        .put("holdsCopies", held).put("services", new JsonObject().put("redis", ar.result())));
    }));
    router.get("/health").handler(ctx -> Future.all(redisStatus(), peerBreaker.get()).onComplete(ar -> {
      JsonObject redisStatus = ar.result().resultAt(0);
      int unconfirmed = unconfirmedShards.getAsInt();
      if (unconfirmed > 0) {
        // Reads are served, but deliveries to these shards get 503 not_replicated (a failover, until it settles).
        degrade(redisStatus.put("unconfirmedShards", unconfirmed));
      }
      int awaiting = awaitingReplicaShards.getAsInt();
      if (awaiting > 0) {
        // Deliveries to these shards get 503 not_replicated: their master lost its replica (webhooks.replicaLossHoldMs).
        degrade(redisStatus.put("awaitingReplicaShards", awaiting));
      }
      int alone = shardsWithoutReplica.getAsInt();
      if (alone > 0) {
        // Served in full, but these shards' deliveries rest on one server until a replica is back: said, not degraded.
        redisStatus.put("shardsWithoutReplica", alone);
      }
      int refusing = refusingShards.getAsInt();
      if (refusing > 0) {
        // Deliveries to these shards were answered 503 (not_replicated or unavailable) and none accepted since.
        degrade(redisStatus.put("refusingShards", refusing));
      }
      JsonObject linktree = linktreeStatus(ar.result().resultAt(1));
      JsonObject services = new JsonObject().put("redis", redisStatus).put("linktree", linktree);
      KlaviyoSink sink = klaviyo.get();
      if (sink != null) {
        services.put("klaviyo", new JsonObject().put("status", sink.status()).put("latencyMs", sink.lastLatencyMs())
          .put("breaker", sink.breakerState().name().toLowerCase()).put("keyRefused", sink.paused()));
      }
      String overall = "healthy";
      for (String name : services.fieldNames()) {
        if (!"healthy".equals(services.getJsonObject(name).getString("status"))) {
          overall = "degraded";
        }
      }
      if ("down".equals(redisStatus.getString("status")) && "down".equals(linktree.getString("status"))) {
        overall = "down";
      }
      json(ctx.response(), "down".equals(overall) ? 503 : 200, new JsonObject().put("status", overall).put("services", services));
    }));
  }

  /** Redis's state as last asked (at most {@value #FRESH_MS} ms ago), a copy each caller may add to. */
  private Future<JsonObject> redisStatus() {
    return redisState.get().map(JsonObject::copy);
  }

  private Future<JsonObject> askRedis() {
    long start = System.nanoTime();
    if (redis instanceof ClusterRedis) {
      // Every master, not one: a surviving master answers PING while a dead one's slots refuse every write.
      return ((ClusterRedis) redis).health(PROBE_TIMEOUT_MS).map(c -> {
        int masters = c.getInteger("masters");
        int unreachable = c.getJsonArray("unreachable").size();
        // Masters that answer but refuse their slots (CLUSTERDOWN): after a whole-Cluster restart, until each rejoins.
        int clusterDown = c.getJsonArray("clusterDown").size();
        int uncovered = c.getInteger("uncoveredSlots");
        String status = masters == 0 || unreachable + clusterDown == masters ? "down"
          : unreachable > 0 || clusterDown > 0 || uncovered > 0 ? "degraded" : "healthy";
        JsonObject r = new JsonObject().put("status", status).put("latencyMs", elapsedMs(start)).put("masters", masters);
        if (unreachable > 0) {
          r.put("unreachableMasters", unreachable);
        }
        if (clusterDown > 0) {
          r.put("clusterDownMasters", clusterDown);
        }
        if (uncovered > 0) {
          r.put("uncoveredSlots", uncovered);
        }
        return withMemory(r, c.getInteger("maxmemoryUsedPercent", -1));
      });
    }
    // INFO memory answers like PING (the server is up) and also says whether it is at its maxmemory. It answers while
    // the server loads its data too, when every data command is refused with LOADING: PING is asked as well.
    Future<io.vertx.redis.client.Response> ping = redis.send(Request.cmd(Command.PING))
      .timeout(PROBE_TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
    Future<JsonObject> info = redis.send(Request.cmd(Command.INFO).arg("memory"))
      .timeout(PROBE_TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS)
      .map(r -> withMemory(new JsonObject().put("status", "healthy").put("latencyMs", elapsedMs(start)),
        RedisMemory.usedPercent(r.toString())))
      .otherwise(err -> RedisErrors.code(err) != null
        // It answered, refusing INFO (some managed services do): up, fullness unknown.
        ? new JsonObject().put("status", "healthy").put("latencyMs", elapsedMs(start))
        : new JsonObject().put("status", "down").put("latencyMs", elapsedMs(start))
          .put("error", err instanceof java.util.concurrent.TimeoutException ? "timeout" : "unreachable"));
    return Future.join(ping, info).transform(done -> Future.succeededFuture(ping.failed() && RedisErrors.loading(ping.cause())
      ? new JsonObject().put("status", "down").put("latencyMs", elapsedMs(start)).put("error", "loading")
      : info.result()));
  }

  /**
   * Adds how full the server is against its maxmemory (the fullest master on a Cluster); from
   * {@value RedisMemory#NEARLY_FULL_PERCENT} % on it is degraded: at 100 % under noeviction every write is refused
   * (webhooks answered 503, clicks journaled) while reads still work.
   */
  private static JsonObject withMemory(JsonObject r, int usedPercent) {
    if (usedPercent >= 0) {
      r.put("maxmemoryUsedPercent", usedPercent);
      if (usedPercent >= RedisMemory.NEARLY_FULL_PERCENT) {
        degrade(r);
      }
    }
    return r;
  }

  /** A service that still works in part: degraded, unless it is already reported worse. */
  private static void degrade(JsonObject service) {
    if ("healthy".equals(service.getString("status"))) {
      service.put("status", "degraded");
    }
  }

  /**
   * The upstream as the gateway currently sees it, without spending budget on a probe: this instance's breaker, or a
   * peer's while that one is open ({@code peerBreakerOpen}: an instance that has not called the upstream itself would
   * otherwise say "healthy" through an outage).
   */
  private JsonObject linktreeStatus(boolean openSomewhere) {
    CircuitBreakerState breaker = upstream.breakerState();
    boolean refused = upstream.credentialsRefused();
    boolean peerOpen = openSomewhere && breaker == CircuitBreakerState.CLOSED;
    String status = breaker == CircuitBreakerState.OPEN || refused || peerOpen ? "down"
      : breaker == CircuitBreakerState.HALF_OPEN || upstream.budget().blockedForMs() > 0 ? "degraded" : "healthy";
    JsonObject linktree = new JsonObject().put("status", status).put("latencyMs", upstream.lastLatencyMs())
      .put("breaker", breaker.name().toLowerCase())
      .put("rateLimitedForMs", upstream.budget().blockedForMs());
    if (peerOpen) {
      linktree.put("peerBreakerOpen", true);
    }
    return refused ? linktree.put("credentialsRefused", true) : linktree;
  }

  private static long elapsedMs(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  static void json(io.vertx.core.http.HttpServerResponse resp, int status, JsonObject body) {
    resp.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .putHeader(HttpHeaders.CACHE_CONTROL, "no-store").end(body.toBuffer());
  }
}
