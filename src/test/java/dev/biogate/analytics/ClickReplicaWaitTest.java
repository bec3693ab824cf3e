package dev.biogate.analytics;

import dev.biogate.support.ReplicatedHarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Click batches wait for the replica as webhook deliveries do: without it a failover (the master dying before its
 * replica had the batch, or a Sentinel switch leaving writes on the old master) took accepted clicks with it. Against
 * a real master and replica: while the replica does not acknowledge, clicks go to the journal, not to the master
 * alone; once it does, the journal is replayed and every click is on the replica.
 */
class ClickReplicaWaitTest extends ReplicatedHarnessTest {

  private static final int CLICKS = 5;

  @TempDir
  Path dir;

  @Test
  void clicksNoReplicaAcknowledgedAreJournaledAndReplayedOnceOneDoes(Vertx vertx, VertxTestContext ctx) {
    JsonObject cfg = Clicks.config(dir.resolve("clicks.journal"))
      .put("webhooks", new JsonObject().put("replicaWaitMs", 300));
    startReplicated()
      .compose(v -> h.gateway(cfg))
      // The replica stops acknowledging for 3 s: the clicks recorded now cannot be made durable in time.
      .compose(g -> redis.stallReplica(vertx, 3).map(g))
      .compose(g -> {
        ClickRecorder recorder = g.clickRecorder();
        long now = System.currentTimeMillis();
        java.util.List<ClickEvent> events = new java.util.ArrayList<>();
        for (int i = 0; i < CLICKS; i++) {
          events.add(ClickEvent.redirect("demo", "lnk_demo_0" + (i + 1), now));
        }
        events.forEach(recorder::record);
        return Clicks.eventually(vertx, () -> Future.succeededFuture(recorder.journaled() >= CLICKS), 10_000,
            "the clicks journaled while no replica acknowledged")
          .compose(v -> Clicks.eventually(vertx, () -> Future.succeededFuture(recorder.journalDepth() == 0
            && recorder.queued() == 0), 15_000, "the journal replayed once the replica answers"))
          .compose(v -> Clicks.eventually(vertx, () -> countedOn(redis.replica(), events).map(n -> n == CLICKS), 10_000,
            "every click counted, and the replica holds it"))
          .map(v -> {
            ctx.verify(() -> assertTrue(recorder.replayed() >= CLICKS, "replayed " + recorder.replayed()));
            return null;
          });
      })
      .onComplete(ctx.succeedingThenComplete());
  }

  /** How many of {@code events} the replica holds as counted (their counted-once markers). */
  private static Future<Integer> countedOn(Redis replica, java.util.List<ClickEvent> events) {
    java.util.List<Future<Boolean>> found = new java.util.ArrayList<>();
    for (ClickEvent e : events) {
      found.add(replica.send(Request.cmd(Command.EXISTS).arg(dev.biogate.redis.RedisKeys.clickCounted("demo", e.eventId())))
        .map(r -> r.toInteger() == 1));
    }
    return Future.all(found).map(all -> (int) found.stream().filter(Future::result).count());
  }
}
