package dev.biogate.analytics;

import dev.biogate.redis.ReplicaWatch;
import dev.biogate.support.Eventually;
import dev.biogate.support.LogCapture;
import dev.biogate.support.Sharded;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Redis;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Cluster drill killed every Redis node, then an instance holding journaled clicks: the survivor replayed that
 * journal in a loop (a failed write ended the scan as if it had succeeded, and the next scan started at once),
 * spending a core and logging ~1,200 WARN lines a second. A refused chunk is now offered again once a second, the
 * journal kept (and held: a refusal used to release it, and the next scan started it over from its first line,
 * which never finished a journal longer than its shard's room: {@link OrphanJournalTest}).
 */
@ExtendWith(VertxExtension.class)
class OrphanReplayBackoffTest {

  @TempDir
  Path dir;

  @Test
  void aReplayThatRedisRefusesIsOfferedAgainOnceASecondNotInALoop(Vertx vertx, VertxTestContext ctx) throws Exception {
    String lines = new ClickEvent("gone-1", "carol", "lnk_carol_01", 1_796_500_000_000L, ClickEvent.SOURCE_REDIRECT).toJson().encode()
      + "\n" + new ClickEvent("gone-2", "carol", "lnk_carol_02", 1_796_500_000_000L, ClickEvent.SOURCE_REDIRECT).toJson().encode() + "\n";
    Files.writeString(dir.resolve("gone-instance.journal"), lines, StandardCharsets.UTF_8);
    Redis down = Redis.createClient(vertx, "redis://127.0.0.1:1"); // nothing listens there: every write is refused
    ClickStreamWriter writer = new ClickStreamWriter(down, Sharded.SHARDS, 10_000, 1_000, stream -> { },
      new ReplicaWatch(vertx, down, "off", Sharded.SHARDS.count()), 0);
    ClickJournal own = new ClickJournal(vertx, dir.resolve("own.journal"), 1_000);
    LogCapture log = LogCapture.of(OrphanJournals.class, e -> e.getFormattedMessage().contains("not replayed yet") ? e.getFormattedMessage() : null);
    OrphanJournals[] orphans = new OrphanJournals[1];
    io.vertx.core.Context context = vertx.getOrCreateContext();
    Promise<Void> started = Promise.promise();
    context.runOnContext(v -> own.open().onComplete(ar -> {
      orphans[0] = new OrphanJournals(vertx, own, writer, 10, 60_000);
      orphans[0].start();
      started.complete();
    }));
    started.future()
      .compose(v -> Eventually.until(vertx, () -> Future.succeededFuture(!log.lines().isEmpty()), 10_000, "a replay refused"))
      // Long enough for a loop to have tried again many times (it did ~1,200 times a second).
      .compose(v -> vertx.timer(2_500))
      .compose(v -> {
        Promise<Void> stopped = Promise.promise();
        context.runOnContext(x -> orphans[0].stop().eventually(own::close).eventually(down::close).onComplete(stopped));
        return stopped.future();
      })
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        log.close();
        List<String> seen = log.lines();
        assertEquals(1, seen.size(), "one line per interval: " + seen.size() + " " + (seen.isEmpty() ? "" : seen.get(0)));
        long tries = orphans[0].refused();
        assertTrue(tries >= 1 && tries <= 5, "offered again once a second, not in a loop: " + tries + " tries in ~3 s");
        assertTrue(Files.exists(dir.resolve("gone-instance.journal")), "the journal is kept for the next scan");
        ctx.completeNow();
      })));
  }
}
