package dev.biogate.webhook;

import dev.biogate.config.WebhookOptions;
import dev.biogate.http.ApiException;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Deduplicates and queues a verified delivery in one atomic step ({@code redis/webhook_ingest.lua}): the delivery is
 * either recorded and queued, or recognised as a duplicate, cluster-wide. When Redis cannot be reached the caller
 * gets a 503 with {@code Retry-After}, so the sender retries and nothing is lost.
 */
final class WebhookIngest {

  private static final Logger LOG = LoggerFactory.getLogger(WebhookIngest.class);
  private static final long TIMEOUT_MS = 3_000;
  static final ApiException UNAVAILABLE = new ApiException(503, "unavailable",
    "the webhook queue is unavailable; retry later", 5);

  private final Redis redis;
  private final WebhookOptions options;
  private final LongSupplier clock;
  private final LuaScript script = LuaScript.load("webhook_ingest");
  private final AtomicBoolean degraded = new AtomicBoolean();

  WebhookIngest(Redis redis, WebhookOptions options, LongSupplier clock) {
    this.redis = redis;
    this.options = options;
    this.clock = clock;
  }

  /** {@code true} when recorded and queued, {@code false} for a duplicate; fails with a 503 {@link ApiException}. */
  Future<Boolean> ingest(Delivery d) {
    List<String> keys = new ArrayList<>(2 + d.dedupeKeys.size());
    keys.add(RedisKeys.EVENTS_STREAM);
    keys.add(d.historyKey());
    keys.addAll(d.dedupeKeys);
    List<String> args = List.of(Long.toString(options.dedupeWindowS()), Long.toString(options.streamMaxLen()),
      d.provider, d.id, d.type, Long.toString(clock.getAsLong()), d.body);
    return script.run(redis, keys, args)
      .timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .map(r -> {
        if (degraded.compareAndSet(true, false)) {
          LOG.info("redis reachable again; webhook deliveries are being queued");
        }
        return r.get(0).toInteger() == 1;
      })
      .recover(err -> {
        if (degraded.compareAndSet(false, true)) {
          LOG.warn("redis unavailable for webhook ingestion ({}); answering 503 so senders retry", err.getClass().getSimpleName());
        }
        return Future.failedFuture(UNAVAILABLE);
      });
  }
}
