package dev.biogate.cluster;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.Shards;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.Sharded;
import dev.biogate.support.TestCluster;
import dev.biogate.support.Topology;
import dev.biogate.support.UnstartedHarnessTest;
import dev.biogate.webhook.Deliveries;
import dev.biogate.webhook.DeliveryMix.Sent;
import dev.biogate.webhook.DeliveryMix;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ingest sharded over a real 3-master Redis Cluster: every shard has its own slot, the shards cover every master,
 * two instances handle each distinct delivery exactly once while every master takes part of the work, clicks are
 * counted exactly, and the admin API finds deliveries and replays dead letters across shards.
 */
class ShardedIngestTest extends UnstartedHarnessTest {

  private static final int UNIQUE = 700;
  private static final int DUPLICATES = 300;

  @Test
  void everyShardHasItsOwnSlotAndTheShardsCoverEveryMaster() {
    TestCluster cluster = TestCluster.get();
    Shards shards = new Shards(Shards.DEFAULT_COUNT);
    Set<Integer> slots = new HashSet<>();
    Map<RedisProcess, Integer> masters = new HashMap<>();
    for (int s = 0; s < shards.count(); s++) {
      // Every key of a shard shares the slot of its stream (one script can touch them all).
      int slot = cluster.slot(RedisKeys.eventsShard(s));
      assertEquals(slot, cluster.slot(RedisKeys.deadLettersShard(s)));
      assertEquals(slot, cluster.slot(RedisKeys.webhookDedupe(s, "linktree", "id", "x")));
      assertEquals(slot, cluster.slot(RedisKeys.webhookDelivery(s, "linktree", "x")));
      assertEquals(slot, cluster.slot(RedisKeys.clicksShard(s)));
      assertEquals(slot, cluster.slot(RedisKeys.klaviyoDlqShard(s)));
      slots.add(slot);
      masters.merge(cluster.masterOf(RedisKeys.eventsShard(s)), 1, Integer::sum);
    }
    assertEquals(shards.count(), slots.size(), "each shard hashes to a slot of its own");
    assertEquals(TestCluster.MASTERS, masters.size(), "the shards spread over every master");
    masters.forEach((m, n) -> assertTrue(n >= shards.count() / TestCluster.MASTERS - 1,
      "each master holds about its share of the shards: " + masters));
  }

  @Test
  void twoInstancesOnAClusterHandleEachDistinctDeliveryOnceWithEveryMasterTakingPart(Vertx vertx, VertxTestContext ctx) {
    TestCluster cluster = TestCluster.get();
    Random random = new Random(7);
    List<Sent> all = DeliveryMix.of(random, "cl-", UNIQUE, DUPLICATES, DeliveryMix::reordered);
    Map<RedisProcess, Long> xaddsBefore = new HashMap<>();
    JsonObject cfg = Deliveries.config();
    h.start(Topology.CLUSTER)
      .compose(x -> vertx.executeBlocking(() -> {
        cluster.masters().forEach(m -> xaddsBefore.put(m, xadds(m)));
        return null;
      }))
      .compose(x -> h.gateway(cfg)).compose(a -> h.gateway(cfg).compose(b -> {
        return DeliveryMix.sendAll(h, random, all, UNIQUE, a, b)
          .compose(done -> h.eventually(() -> Future.succeededFuture(handled(a, b) >= UNIQUE && clicks(a, b) >= UNIQUE / 2), 30_000))
          // A stray second handling needs an entry still pending: once none is, the totals are final.
          .compose(v -> h.eventually(() -> Sharded.settled(h::redis), 10_000))
          .compose(v -> vertx.executeBlocking(() -> {
            assertEquals(UNIQUE, handled(a, b), "every distinct delivery handled exactly once across both instances");
            assertEquals(UNIQUE / 2, clicks(a, b), "every LinkMe click counted exactly once");
            for (RedisProcess m : cluster.masters()) {
              long queued = xadds(m) - xaddsBefore.get(m);
              assertTrue(queued >= 50, "master " + m + " took part of the ingest: " + queued + " XADDs");
            }
            return null;
          }))
          .compose(v -> admin(a, HttpMethod.GET, "/admin/deliveries/cl-dlv-1"))
          .map(r -> {
            assertEquals(200, r.statusCode(), r.bodyAsString());
            assertEquals("linktree", r.bodyAsJsonObject().getString("provider"));
            // link.reordered has no handler and no destination subscribes: acknowledged and recorded as skipped.
            assertEquals("skipped", r.bodyAsJsonObject().getString("outcome"), r.bodyAsString());
            assertEquals("no handler or destination wants linktree.link.reordered", r.bodyAsJsonObject().getString("reason"));
            return null;
          });
      })).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void deadLettersOnAClusterAreListedAndReplayedById(Vertx vertx, VertxTestContext ctx) {
    int count = 6;
    h.start(Topology.CLUSTER).compose(x -> h.receiver(500)).compose(alertSink -> h.gateway(Deliveries.config()
        .put("webhooks", Deliveries.webhooks().put("alerts", new JsonObject().put("url", alertSink.url("/alerts")))))
      .compose(g -> {
        List<Future<HttpResponse<Buffer>>> sends = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          Buffer body = Deliveries.milestone("dl-" + i, 100);
          sends.add(h.post(g, "/webhooks/linktree", Deliveries.linktree("dl-" + i, body), body));
        }
        return Future.all(sends)
          .compose(v -> h.eventually(() -> admin(g, HttpMethod.GET, "/admin/dead-letters")
            .map(r -> r.bodyAsJsonObject().getLong("count") == count), 15_000))
          .compose(v -> admin(g, HttpMethod.GET, "/admin/dead-letters"))
          .compose(list -> {
            Set<Integer> shards = new HashSet<>();
            list.bodyAsJsonObject().getJsonArray("dead_letters").forEach(o -> shards.add(((JsonObject) o).getInteger("shard")));
            assertTrue(shards.size() > 1, "dead letters come from several shards: " + shards);
            alertSink.answer(200);
            List<Future<HttpResponse<Buffer>>> replays = new ArrayList<>();
            list.bodyAsJsonObject().getJsonArray("dead_letters").forEach(o ->
              replays.add(admin(g, HttpMethod.POST, "/admin/dead-letters/" + ((JsonObject) o).getString("id") + "/replay?shard="
                + ((JsonObject) o).getInteger("shard"))));
            return Future.all(replays).map(replays);
          })
          .compose(replays -> {
            replays.forEach(f -> assertEquals(200, f.result().statusCode(), f.result().bodyAsString()));
            return h.eventually(() -> admin(g, HttpMethod.GET, "/admin/deliveries/dl-" + (count - 1))
              .map(r -> "handled".equals(r.bodyAsJsonObject().getString("outcome"))), 15_000);
          })
          .compose(v -> admin(g, HttpMethod.GET, "/admin/dead-letters"))
          .map(r -> {
            assertEquals(0L, r.bodyAsJsonObject().getLong("count"), "every dead letter replayed");
            return null;
          });
      })).onComplete(ctx.succeedingThenComplete());
  }

  private Future<HttpResponse<Buffer>> admin(Gateway g, HttpMethod method, String path) {
    return h.send(method, g, path, Deliveries.ADMIN_TOKEN);
  }

  private static long xadds(RedisProcess m) {
    for (String line : m.string("INFO", "commandstats").split("\r?\n")) {
      if (line.startsWith("cmdstat_xadd:")) {
        String calls = line.substring(line.indexOf("calls=") + 6);
        return Long.parseLong(calls.substring(0, calls.indexOf(',')));
      }
    }
    return 0;
  }

  private static long handled(Gateway a, Gateway b) {
    return a.eventStats().handled() + b.eventStats().handled();
  }

  private static long clicks(Gateway a, Gateway b) {
    return a.clickCounter().counted() + a.clickCounter().unattributed() + b.clickCounter().counted() + b.clickCounter().unattributed();
  }
}
