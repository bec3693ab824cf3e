package dev.biogate.webhook;

import dev.biogate.config.WebhookOptions;
import dev.biogate.http.ApiException;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.ReplicaWatch;
import dev.biogate.redis.Shards;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Queues the events of a verified Klaviyo batch on the events stream, each deduplicated by its {@code external_id},
 * in one atomic step ({@code redis/klaviyo_ingest.lua}). A full backlog or an unreachable Redis fails the whole batch
 * with 503 and {@code Retry-After}: nothing of it was queued, so the sender's retry loses nothing. Where the shard's
 * master has a replica the script and a {@code WAIT} go out together, as for the other providers
 * ({@link WebhookIngest}): no replica acknowledging in time is a 503 {@code not_replicated}, and the retry finds the
 * batch's markers (duplicates) or queues it anew.
 */
final class KlaviyoIngest {

  /** How many events were queued and how many were already known. */
  record Outcome(int received, int duplicates) {
  }

  private static final long TIMEOUT_MS = 5_000;
  static final ApiException BACKLOG_FULL = new ApiException(503, "backlog_full",
    "the webhook backlog is at its ceiling; retry later", 5);

  /** The Klaviyo shard's backlog ceiling, as the ingest script takes it. */
  private final String ceiling;
  private final Redis redis;
  private final WebhookOptions options;
  private final LongSupplier clock;
  private final LuaScript script = LuaScript.load("klaviyo_ingest");
  private final Consumer<String> queued;

  private final ReplicaWatch replicas;
  private final ShardRefusals refusals;

  KlaviyoIngest(Redis redis, WebhookOptions options, LongSupplier clock, ReplicaWatch replicas, Consumer<String> queued,
                ShardRefusals refusals) {
    this.replicas = replicas;
    this.refusals = refusals;
    this.redis = redis;
    this.queued = queued;
    this.options = options;
    this.ceiling = Long.toString(ceiling(options));
    this.clock = clock;
  }

  /** The shard every Klaviyo batch is queued on. */
  static final int SHARD = 0;

  /**
   * The backlog the Klaviyo shard may hold: its share of the deployment-wide {@code streamMaxLen}, as every shard's
   * (the whole ceiling let it hold up to twice what the deployment allows), but at least one whole batch, which could
   * otherwise never be queued.
   */
  static long ceiling(WebhookOptions options) {
    return Math.max(KlaviyoBatch.MAX_EVENTS, new Shards(options.shards()).ceiling(options.streamMaxLen()));
  }

  Future<Outcome> ingest(KlaviyoBatch batch) {
    if (batch.events.isEmpty()) {
      return Future.succeededFuture(new Outcome(0, batch.repeatsInBatch));
    }
    List<String> keys = new ArrayList<>(1 + 2 * batch.events.size());
    List<String> args = new ArrayList<>(4 + 3 * batch.events.size());
    // One batch is queued atomically, and an external_id must be deduplicated whatever batch repeats it: all
    // Klaviyo events share one shard (its stream, markers and history in one slot).
    String stream = RedisKeys.eventsShard(SHARD);
    keys.add(stream);
    args.add(Long.toString(options.dedupeWindowS()));
    args.add(ceiling);
    args.add(KlaviyoBatch.PROVIDER);
    args.add(Long.toString(clock.getAsLong()));
    for (KlaviyoBatch.Event e : batch.events) {
      keys.add(RedisKeys.webhookDedupe(SHARD, KlaviyoBatch.PROVIDER, "id", e.externalId()));
      keys.add(RedisKeys.webhookDelivery(SHARD, KlaviyoBatch.PROVIDER, e.externalId()));
      args.add(e.externalId());
      args.add(e.topic());
      args.add(e.body());
    }
    return replicas.durably(SHARD, redis, script, keys, args, options.replicaWaitMs())
      .timeout(TIMEOUT_MS + options.replicaWaitMs(), TimeUnit.MILLISECONDS)
      .recover(err -> {
        refusals.refused(SHARD);
        return Future.failedFuture(err == ReplicaWatch.NOT_DURABLE ? WebhookIngest.NOT_REPLICATED : WebhookIngest.UNAVAILABLE);
      })
      .compose(r -> {
        refusals.accepted(SHARD);
        int n = r.get(0).toInteger();
        if (n > 0) {
          queued.accept(stream);
        }
        return n < 0 ? Future.failedFuture(BACKLOG_FULL)
          : Future.succeededFuture(new Outcome(n, r.get(1).toInteger() + batch.repeatsInBatch));
      });
  }
}
