package dev.biogate.webhook;

import dev.biogate.redis.ReplicaWatch;
import dev.biogate.config.WebhookOptions;
import dev.biogate.http.ApiException;
import dev.biogate.redis.ClusterRedis;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.OutageLog;
import dev.biogate.redis.RedisErrors;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.Shards;
import dev.biogate.redis.ThrottledLog;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Deduplicates and queues a verified delivery in one atomic step ({@code redis/webhook_ingest.lua}): the delivery is
 * either recorded and queued, or recognised as a duplicate, cluster-wide. The step runs on one ingest shard: the
 * shard of the body digest, or the one its delivery id was pinned to by an earlier copy (read by the ingest script itself
 * where one server holds every key; by {@code redis/webhook_route.lua} first in Redis Cluster, where the route lives in
 * the id's own slot).
 * Pushes back instead of losing anything:
 * <ul>
 *   <li>Redis unreachable → 503 with {@code Retry-After}, the sender retries;</li>
 *   <li>the delivery's events shard at its ceiling ({@code streamMaxLen} / shards) → 503 {@code backlog_full}, nothing
 *       queued;</li>
 *   <li>durable acknowledgement: when the master has a replica ({@code replicaWait} auto/on), the script and a
 *       {@code WAIT 1 <replicaWaitMs>} go in one batch on one connection (WAIT covers that connection's writes);
 *       no replica acknowledged in time → 503, so a failover right after can never lose a delivery answered 200.
 *       The provider's retry then finds its marker (a duplicate) if the first write survived, or queues it anew.</li>
 * </ul>
 */
final class WebhookIngest {

  private static final Logger LOG = LoggerFactory.getLogger(WebhookIngest.class);
  private static final long TIMEOUT_MS = 3_000;
  /** The ingest script's answer when the delivery id is pinned to another shard (its second element names it). */
  private static final int PINNED_ELSEWHERE = -2;
  static final ApiException UNAVAILABLE = new ApiException(503, "unavailable",
    "the webhook queue is unavailable; retry later", 5);
  static final ApiException BACKLOG_FULL = new ApiException(503, "backlog_full",
    "too many deliveries are waiting to be handled; retry later", 30);
  static final ApiException NOT_REPLICATED = ApiException.notReplicated("the delivery");

  private final Redis redis;
  private final WebhookOptions options;
  private final LongSupplier clock;
  private final ReplicaWatch replicas;
  private final LuaScript script = LuaScript.load("webhook_ingest");
  private final LuaScript route = LuaScript.load("webhook_route");
  private final Shards shards;
  private final long shardCeiling;
  /**
   * Outages are reported at most once per {@link ThrottledLog#INTERVAL_MS}: right after a failover Redis can come
   * and go several times a second, and a line per flap buried the one that mattered. A recovery is reported only
   * when its outage was.
   */
  private final OutageLog outages = new OutageLog(LOG);
  /** Deliveries no replica acknowledged in time: one line per interval, however many there are. */
  private final ThrottledLog unreplicated = new ThrottledLog();
  /** One server holds every key (standalone, Sentinel): the route is read and pinned by the ingest script itself. */
  private final boolean oneServer;
  private final Consumer<String> queued;
  private final ShardRefusals refusals;

  /**
   * {@code queued}: told the stream key of each delivery queued here (this process's reader reads it at once);
   * {@code refusals}: told of each shard's refused and accepted writes.
   */
  WebhookIngest(Redis redis, WebhookOptions options, LongSupplier clock, ReplicaWatch replicas, Consumer<String> queued,
                ShardRefusals refusals) {
    this.redis = redis;
    this.refusals = refusals;
    this.queued = queued;
    this.options = options;
    this.clock = clock;
    this.replicas = replicas;
    this.shards = new Shards(options.shards());
    this.shardCeiling = shards.ceiling(options.streamMaxLen());
    this.oneServer = !(redis instanceof ClusterRedis);
  }

  /** {@code true} when recorded and queued, {@code false} for a duplicate; fails with a 503 {@link ApiException}. */
  Future<Boolean> ingest(Delivery d) {
    // The shard of the delivery's content, unless its id was pinned to another shard by an earlier copy: a re-signed
    // replay meets its body marker, a retry under the same id (whatever its body) its id marker. Where one server
    // holds every key, the ingest script reads and pins the route itself: one round trip instead of two.
    if (oneServer) {
      return ingest(d, d.shard(shards), true, false);
    }
    // The pin is as durable as the delivery it routes: on a master that cannot make it durable (no replica in sync,
    // or none acknowledging it in time) the delivery is refused. Pinned there alone, it was lost with that master in
    // a second fault, and a retry under the same id with a re-stamped body was queued again on another shard (a
    // drill: 62 of 2,001 handled twice).
    String routeKey = RedisKeys.webhookRoute(d.provider, d.id);
    List<String> args = List.of(Integer.toString(d.shard(shards)), Long.toString(options.dedupeWindowS()));
    int watched = replicas.indexOnMasterOf(routeKey);
    Future<Response> pinned = watched < 0 ? route.run(redis, List.of(routeKey), args)
      : replicas.durably(watched, redis, route, List.of(routeKey), args, options.replicaWaitMs(), NOT_REPLICATED);
    return pinned
      .timeout(TIMEOUT_MS + (watched < 0 ? 0 : options.replicaWaitMs()), TimeUnit.MILLISECONDS)
      .recover(err -> Future.<Response>failedFuture(err == NOT_REPLICATED ? err : unavailable(err)))
      .compose(r -> ingest(d, Math.floorMod(r.toInteger(), shards.count()), false, false));
  }

  private ApiException unavailable(Throwable err) {
    outages.down(clock.getAsLong(), "redis unavailable for webhook ingestion ({}); answering 503 so senders retry",
      RedisErrors.describe(err));
    return UNAVAILABLE;
  }



  /**
   * Runs the ingest script on {@code shard}; {@code routed}: the script also reads and pins the id's route, and
   * {@code rerouted}: this is the second try, on the shard the route named (there is no third: a route only changes
   * when it expires).
   */
  private Future<Boolean> ingest(Delivery d, int shard, boolean routed, boolean rerouted) {
    if (replicas.refuses(shard)) {
      // Written there, it could only wait for a replica in vain (holding a pooled connection) and then be refused.
      refusals.refused(shard);
      return Future.failedFuture(NOT_REPLICATED);
    }
    String stream = RedisKeys.eventsShard(shard);
    List<String> keys = new ArrayList<>(4 + d.markers.size());
    keys.add(stream);
    keys.add(d.historyKey(shard));
    keys.addAll(d.dedupeKeys(shard));
    List<Object> args = new ArrayList<>(8);
    Collections.addAll(args, Long.toString(options.dedupeWindowS()), Long.toString(shardCeiling),
      d.provider, d.id, d.type, Long.toString(clock.getAsLong()), d.body);
    if (routed) {
      keys.add(RedisKeys.webhookRoute(d.provider, d.id));
      args.add(Integer.toString(shard));
    }
    // Not ReplicaWatch.durably: the reply decides before the wait does (pinned elsewhere means nothing was written
    // and the delivery is retried on its shard; a full backlog is 503 backlog_full, not not_replicated).
    int wanted = replicas.replicasToWait(shard);
    boolean wait = wanted > 0;
    Future<Result> sent = wait ? runAndWait(keys, args, wanted)
      : script.run(redis, keys, args).map(r -> new Result(r.get(0).toInteger(), r.get(1).toString(), -1));
    return sent
      .timeout(TIMEOUT_MS + (wait ? options.replicaWaitMs() : 0), TimeUnit.MILLISECONDS)
      .recover(err -> {
        refusals.refused(shard);
        return Future.failedFuture(unavailable(err));
      })
      .compose(r -> {
        int code = r.code();
        if (code == PINNED_ELSEWHERE) {
          // Nothing was written: an earlier copy of this id went to another shard, where its id marker is.
          return rerouted ? Future.failedFuture(UNAVAILABLE)
            : ingest(d, Math.floorMod(Integer.parseInt(r.detail()), shards.count()), true, true);
        }
        if (code < 0) {
          return Future.failedFuture(BACKLOG_FULL);
        }
        // A duplicate is checked too: its first copy may so far exist on this master alone.
        if (wait && replicas.missed(shard, r.replicas(), wanted)) {
          unreplicated.warn(LOG, clock.getAsLong(), "deliveries", "no replica acknowledged delivery {} within {} ms; answering 503",
            d.id, options.replicaWaitMs());
          refusals.refused(shard);
          return Future.failedFuture(NOT_REPLICATED);
        }
        refusals.accepted(shard);
        // Back only once no shard refuses: on a Cluster the other masters' shards take deliveries throughout a failover,
        // and a drill saw this line 12 s before the failed master's shards took any.
        if (refusals.count() == 0) {
          outages.up("redis reachable again; webhook deliveries are being queued on every shard");
        }
        if (code == 1) {
          queued.accept(stream);
        }
        return Future.succeededFuture(code == 1);
      });
  }

  /** The script's result code and second element, and how many replicas acknowledged ({@code -1}: not asked). */
  private record Result(int code, String detail, long replicas) {
  }

  private Future<Result> runAndWait(List<String> keys, List<?> args, int wanted) {
    return script.runAndWait(redis, keys, args, wanted, options.replicaWaitMs())
      .map(r -> new Result(r.reply().get(0).toInteger(), r.reply().get(1).toString(), r.replicas()));
  }
}
