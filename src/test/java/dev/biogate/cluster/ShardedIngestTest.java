package dev.biogate.cluster;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.Shards;
import dev.biogate.support.Harness;
import dev.biogate.support.Receiver;
import dev.biogate.support.RedisProcess;
import dev.biogate.support.TestCluster;
import dev.biogate.support.Topology;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.Collections;
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
 * counted exactly, and the admin API finds deliveries across shards and replays dead letters on the Cluster.
 */
@ExtendWith(VertxExtension.class)
class ShardedIngestTest {

  private static final int UNIQUE = 700;
  private static final int DUPLICATES = 300;

  private Harness h;
  private Receiver receiver;

  @AfterEach
  void stop(VertxTestContext ctx) {
    (h == null ? Future.<Void>succeededFuture() : h.close())
      .eventually(() -> receiver == null ? Future.succeededFuture() : receiver.close())
      .onComplete(ctx.succeedingThenComplete());
  }

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
    // The test cluster splits the slots evenly over its masters, and the tags sit at even slot intervals: 6/5/5.
    assertEquals(List.of(5, 5, 6), masters.values().stream().sorted().toList(), "each master holds its share of the shards: " + masters);
  }

  @Test
  void twoInstancesOnAClusterHandleEachDistinctDeliveryOnceWithEveryMasterTakingPart(Vertx vertx, VertxTestContext ctx) {
    TestCluster cluster = TestCluster.get();
    Random random = new Random(7);
    List<Sent> unique = new ArrayList<>();
    for (int i = 0; i < UNIQUE; i++) {
      unique.add(i % 2 == 0 ? Sent.linkme("cl-evt-" + i) : Sent.linktree("cl-dlv-" + i, i));
    }
    List<Sent> all = new ArrayList<>(unique);
    for (int i = 0; i < DUPLICATES; i++) {
      all.add(unique.get(random.nextInt(UNIQUE)).redelivery());
    }
    Collections.shuffle(all, random);
    Map<RedisProcess, Long> xaddsBefore = new HashMap<>();
    h = new Harness(vertx);
    JsonObject cfg = Deliveries.config();
    h.start(Topology.CLUSTER)
      .compose(x -> vertx.executeBlocking(() -> {
        cluster.masters().forEach(m -> xaddsBefore.put(m, xadds(m)));
        return null;
      }))
      .compose(x -> h.gateway(cfg)).compose(a -> h.gateway(cfg).compose(b -> {
        List<Future<HttpResponse<Buffer>>> answers = new ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger retried = new java.util.concurrent.atomic.AtomicInteger();
        for (Sent s : all) {
          answers.add(postAsAProviderWould(random.nextBoolean() ? a : b, s, retried, 0));
        }
        return Future.all(answers).compose(done -> {
          int received = 0;
          int duplicate = 0;
          for (Future<HttpResponse<Buffer>> f : answers) {
            HttpResponse<Buffer> r = f.result();
            assertEquals(200, r.statusCode(), r.bodyAsString());
            received += r.bodyAsJsonObject().getBoolean("duplicate", false) ? 0 : 1;
            duplicate += r.bodyAsJsonObject().getBoolean("duplicate", false) ? 1 : 0;
          }
          // A 503 may come after the delivery was queued (a reply that timed out): its retry is then a duplicate.
          assertTrue(received <= UNIQUE && received >= UNIQUE - retried.get(), "each distinct delivery accepted once: " + received
            + " with " + retried.get() + " retried after a 503");
          assertEquals(all.size(), received + duplicate);
          return h.eventually(() -> Future.succeededFuture(handled(a, b) >= UNIQUE && clicks(a, b) >= UNIQUE / 2), 30_000);
        })
          // Nothing pending on any shard: a second handling of any delivery would have happened by now.
          .compose(v -> h.eventually(() -> dev.biogate.support.Sharded.settled(h::redis), 10_000))
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
  void destinationDeadLettersOnAClusterAreListedAndReplayedByIdAndEachEventsHistoryIsFoundAcrossShards(Vertx vertx,
                                                                                                      VertxTestContext ctx) {
    receiver = new Receiver(vertx);
    receiver.status.set(500);
    h = new Harness(vertx);
    int count = 6;
    receiver.start().compose(r -> h.start(Topology.CLUSTER))
      .compose(x -> h.gateway(Deliveries.config().put("destinations", receiver.destinations("ops", "linktree.analytics.milestone")
        .put("maxAttempts", 3).put("retryBaseMs", 20).put("retryMaxMs", 100).put("breakerMaxFailures", 100))))
      .compose(g -> {
        List<Future<HttpResponse<Buffer>>> sends = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          Buffer body = Deliveries.linktreeEvent("analytics.milestone", new JsonObject().put("link_id", "dl-" + i)
            .put("metric", "clicks").put("value", 100).put("threshold", 100));
          sends.add(h.post(g, "/webhooks/linktree", Deliveries.linktree("dl-" + i, body), body));
        }
        return Future.all(sends)
          .compose(v -> h.eventually(() -> admin(g, HttpMethod.GET, "/admin/destinations/dead-letters")
            .map(r -> r.bodyAsJsonObject().getLong("count") == count), 15_000))
          .compose(v -> admin(g, HttpMethod.GET, "/admin/destinations/dead-letters"))
          .compose(list -> {
            Set<String> events = new HashSet<>();
            list.bodyAsJsonObject().getJsonArray("dead_letters").forEach(o -> events.add(((JsonObject) o).getString("delivery_id")));
            assertEquals(count, events.size(), "one dead letter per event: " + events);
            receiver.status.set(200);
            List<Future<HttpResponse<Buffer>>> replays = new ArrayList<>();
            list.bodyAsJsonObject().getJsonArray("dead_letters").forEach(o ->
              replays.add(admin(g, HttpMethod.POST, "/admin/destinations/dead-letters/" + ((JsonObject) o).getString("id") + "/replay")));
            return Future.all(replays).map(replays);
          })
          .compose(replays -> {
            replays.forEach(f -> assertEquals(200, f.result().statusCode(), f.result().bodyAsString()));
            return h.eventually(() -> Future.succeededFuture(receiver.delivered().size() == count), 15_000);
          })
          .compose(v -> {
            // Each event's history lives on the shard its body chose; the lookup asks them all.
            List<Future<HttpResponse<Buffer>>> lookups = new ArrayList<>();
            for (int i = 0; i < count; i++) {
              lookups.add(admin(g, HttpMethod.GET, "/admin/deliveries/dl-" + i));
            }
            return Future.all(lookups).map(lookups);
          })
          .compose(lookups -> {
            lookups.forEach(f -> {
              JsonObject event = f.result().bodyAsJsonObject();
              assertEquals(200, f.result().statusCode(), event.encode());
              assertEquals("handled", event.getString("outcome"), event.encode());
              assertEquals(4, event.getJsonArray("destinations").getJsonObject(0).getInteger("attempts"), event.encode());
            });
            assertEquals(count, receiver.deliveries(), "one delivery per event");
            return admin(g, HttpMethod.GET, "/admin/destinations/dead-letters");
          })
          .map(r -> {
            assertEquals(0L, r.bodyAsJsonObject().getLong("count"), "every dead letter replayed");
            return null;
          });
      }).onComplete(ctx.succeedingThenComplete());
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

  /** One delivery as sent; a redelivery is the provider's retry of it. */
  /** Posts {@code s} as a provider does: a 503 (Redis too slow to answer in time) is retried, a few times at most. */
  private Future<HttpResponse<Buffer>> postAsAProviderWould(Gateway g, Sent s, java.util.concurrent.atomic.AtomicInteger retried, int attempt) {
    return h.post(g, s.path, s.headers(), s.body).compose(r -> {
      if (r.statusCode() != 503 || attempt == 5) {
        return Future.succeededFuture(r);
      }
      retried.incrementAndGet();
      return h.vertx.timer(200).compose(t -> postAsAProviderWould(g, s, retried, attempt + 1));
    });
  }

  private record Sent(String path, String deliveryId, Buffer body, long timestamp) {

    static Sent linkme(String id) {
      return new Sent("/webhooks/linkme", null, Deliveries.click(id, "link-" + id), 0);
    }

    static Sent linktree(String deliveryId, int i) {
      return new Sent("/webhooks/linktree", deliveryId, Deliveries.linktreeEvent("link.reordered",
        new JsonObject().put("link_id", "l" + i)), Deliveries.nowSeconds());
    }

    Sent redelivery() {
      return new Sent(path, deliveryId, body, timestamp + 1);
    }

    MultiMap headers() {
      return deliveryId == null ? Deliveries.linkme(body) : Deliveries.linktree(deliveryId, body, timestamp);
    }
  }
}
