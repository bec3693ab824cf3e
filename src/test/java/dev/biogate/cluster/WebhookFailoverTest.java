package dev.biogate.cluster;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.TestCluster;
import dev.biogate.support.Topology;
import dev.biogate.support.UnstartedHarnessTest;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import io.vertx.junit5.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Webhooks keep flowing while the Cluster master holding the events stream dies: every delivery answered 200 is
 * handled afterwards (the ingest waits for a replica before answering), everything else is a retryable 503, and
 * deliveries are answered 200 again once the replica has taken over. The time from the kill to the first 200 is
 * logged ({@code webhook failover: ...}); it is a measurement, not asserted here: on a busy 2-core machine it
 * ranged from 2.6 s to 107 s (the shared connection is rebuilt several times before it settles), hence the long
 * test timeout.
 */
@Tag("drill")
class WebhookFailoverTest extends UnstartedHarnessTest {

  private static final Logger LOG = LoggerFactory.getLogger(WebhookFailoverTest.class);
  private static final int SENDERS = 8;
  /** Deliveries answered 200 after the failover before the senders stop. */
  private static final int ACCEPTED_AFTER_KILL = 100;

  private final Set<String> accepted = ConcurrentHashMap.newKeySet();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicInteger sequence = new AtomicInteger();
  private final AtomicLong killedAt = new AtomicLong();
  private final AtomicLong firstAcceptedAfterKill = new AtomicLong();
  private final AtomicInteger acceptedAfterKill = new AtomicInteger();
  private final AtomicBoolean stop = new AtomicBoolean();
  /** Error code of each kind of refusal → ms after the kill of the last one. */
  private final Map<String, Long> refusals = new ConcurrentHashMap<>();

  @AfterEach
  void stopLoad() {
    stop.set(true);
  }

  @Test
  @Timeout(value = 180, timeUnit = TimeUnit.SECONDS)
  void noDeliveryAnswered200IsLostWhenTheEventsMasterDiesAndWebhooksAreAcceptedAgainAfterIt(Vertx vertx, VertxTestContext ctx) {
    TestCluster cluster = TestCluster.get();
    JsonObject cfg = Deliveries.config();
    h.start(Topology.CLUSTER).compose(x -> h.gateway(cfg))
      .compose(g -> h.eventually(() -> h.get(g, "/health/ready").map(r -> r.statusCode() == 200), 15_000).map(g))
      .compose(g -> {
        Promise<Void> senders = Promise.promise();
        AtomicInteger running = new AtomicInteger(SENDERS);
        for (int i = 0; i < SENDERS; i++) {
          send(g).onComplete(ar -> {
            if (running.decrementAndGet() == 0) {
              senders.complete();
            }
          });
        }
        // Some deliveries land before the kill, then the master of the events stream's slot dies mid-flow.
        Future<Void> killed = h.eventually(() -> Future.succeededFuture(accepted.size() >= 50), 15_000)
          .compose(v -> vertx.executeBlocking(() -> {
            killedAt.set(System.nanoTime());
            cluster.killMasterAndAwaitFailover(RedisKeys.eventsShard(0));
            return null;
          }));
        return killed.compose(v -> senders.future()).map(g);
      })
      .compose(g -> h.eventually(() -> allHandled(g), 60_000).map(g))
      .onComplete(ctx.succeeding(g -> ctx.verify(() -> {
        long backMs = (firstAcceptedAfterKill.get() - killedAt.get()) / 1_000_000;
        LOG.info("webhook failover: {} deliveries answered 200 ({} after the kill), {} refused with 503, first 200 "
          + "after the kill {} ms after it, lost 0; refusals (code=last ms after the kill) {}", accepted.size(), acceptedAfterKill.get(), refused.get(), backMs,
          refusals);
        assertTrue(acceptedAfterKill.get() >= ACCEPTED_AFTER_KILL, "webhooks are accepted again after the failover");
        ctx.completeNow();
      })));
  }

  /** One sender: a new delivery after each answer, until enough were accepted after the kill. */
  private Future<Void> send(Gateway g) {
    if (stop.get() || acceptedAfterKill.get() >= ACCEPTED_AFTER_KILL) {
      return Future.succeededFuture();
    }
    String id = "fo-" + sequence.incrementAndGet();
    Buffer body = Deliveries.linktreeEvent("link.reordered", new JsonObject().put("link_id", id));
    long sentAt = System.nanoTime();
    return h.post(g, "/webhooks/linktree", Deliveries.linktree(id, body), body)
      .transform(ar -> {
        HttpResponse<Buffer> r = ar.succeeded() ? ar.result() : null;
        if (r != null && r.statusCode() == 200) {
          assertTrue(r.bodyAsJsonObject().getBoolean("received", false), r.bodyAsString());
          accepted.add(id);
          long killed = killedAt.get();
          if (killed != 0 && sentAt > killed) {
            firstAcceptedAfterKill.compareAndSet(0, System.nanoTime());
            acceptedAfterKill.incrementAndGet();
          }
        } else {
          // Anything else must be a retryable refusal, never a silent loss: the provider would retry it.
          if (r != null) {
            assertEquals(503, r.statusCode(), r.bodyAsString());
          }
          refused.incrementAndGet();
          String code = r == null ? "no answer" : r.bodyAsJsonObject().getString("error");
          long since = killedAt.get() == 0 ? -1 : (System.nanoTime() - killedAt.get()) / 1_000_000;
          refusals.put(code, since);
        }
        return send(g);
      });
  }

  /** Every delivery answered 200 has the outcome {@code handled} in its history. */
  private Future<Boolean> allHandled(Gateway g) {
    List<Future<Boolean>> checks = new ArrayList<>();
    for (String id : accepted) {
      checks.add(h.http.get(g.managementPort(), "127.0.0.1", "/admin/deliveries/" + id)
        .bearerTokenAuthentication(Deliveries.ADMIN_TOKEN).send()
        // link.reordered has no handler and no destination subscribes: once processed, its history says skipped.
        .map(r -> r.statusCode() == 200 && "skipped".equals(r.bodyAsJsonObject().getString("outcome"))));
    }
    return Future.all(checks).map(all -> {
      long missing = checks.stream().filter(f -> !f.result()).count();
      if (missing > 0) {
        LOG.info("{} of {} accepted deliveries not processed yet", missing, checks.size());
      }
      return missing == 0;
    });
  }
}
