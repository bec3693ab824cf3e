package dev.biogate.webhook;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import dev.biogate.redis.RedisKeys;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Whether webhook ingestion must wait for a replica before answering 200: always ({@code on}), never ({@code off}),
 * or ({@code auto}) while the Redis master holding the events stream reports a connected replica
 * ({@code INFO replication}, sampled every few seconds, never per request). A lone Redis has nothing to wait for; waiting there would only add latency.
 */
public final class ReplicaWatch {

  private static final Logger LOG = LoggerFactory.getLogger(ReplicaWatch.class);
  private static final long PERIOD_MS = 2_000;
  private static final String INFO_SCRIPT = "return redis.call('INFO', 'replication')";

  private final Vertx vertx;
  private final Redis redis;
  private final String mode;
  private volatile boolean replicated;
  private long timer = -1;

  public ReplicaWatch(Vertx vertx, Redis redis, String mode) {
    this.vertx = vertx;
    this.redis = redis;
    this.mode = mode;
  }

  boolean waitForReplica() {
    return "on".equals(mode) || ("auto".equals(mode) && replicated);
  }

  /** Samples now (completing once known, or after a short wait) and every few seconds. */
  public Future<Void> start() {
    if (!"auto".equals(mode)) {
      return Future.succeededFuture();
    }
    timer = vertx.setPeriodic(PERIOD_MS, id -> sample());
    return sample().timeout(2, TimeUnit.SECONDS).otherwiseEmpty();
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  Future<Void> sample() {
    // INFO has no key: on Cluster it would land on any node, a replica or another master included. Run it from a
    // script keyed like the events stream, so it is answered by the master that takes the deliveries.
    Request info = Request.cmd(Command.EVAL).arg(INFO_SCRIPT).arg(1).arg(RedisKeys.eventsShard(0));
    return redis.send(info).timeout(2, TimeUnit.SECONDS).map(r -> {
      boolean now = connectedReplicas(r.toString()) > 0;
      if (now != replicated) {
        LOG.info(now ? "redis has a replica: webhooks are acknowledged once a replica holds them"
          : "redis has no replica: webhooks are acknowledged once the master holds them");
      }
      replicated = now;
      return (Void) null;
    }).otherwiseEmpty();
  }

  static int connectedReplicas(String info) {
    for (String line : info.split("\r?\n")) {
      if (line.startsWith("connected_slaves:")) {
        try {
          return Integer.parseInt(line.substring("connected_slaves:".length()).trim());
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 0;
  }
}
