package dev.biogate.analytics;

import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The journal of an instance that is gone (scaled down after an outage) is replayed by another instance sharing the
 * directory, whatever its file is called and even when it appears after that instance started; a journal whose
 * instance is alive (its lock held) is left alone.
 */
class OrphanJournalTest extends HarnessTest {

  @TempDir
  Path dir;

  @Test
  void anotherInstanceReplaysTheJournalOfAnInstanceThatIsGone(Vertx vertx, VertxTestContext ctx) throws Exception {
    long now = System.currentTimeMillis();
    JsonObject alive = Clicks.config(dir.resolve("alive.journal"));
    alive.getJsonObject("analytics").getJsonObject("journal").put("orphanScanMs", 100);
    JsonObject busy = Clicks.config(dir.resolve("busy.journal"));
    h.gateway(alive).compose(g -> h.gateway(busy).compose(other -> {
      try {
        // Written after both started, by an instance that is gone (nobody holds its lock), under another name.
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 40; i++) {
          lines.append(new ClickEvent("orphan-" + i, "carol", "lnk_carol_0" + (i % 3 + 1), now, ClickEvent.SOURCE_REDIRECT)
            .toJson().encode()).append('\n');
        }
        Files.writeString(dir.resolve("gone-instance.journal"), lines.toString(), StandardCharsets.UTF_8);
      } catch (Exception e) {
        return Future.failedFuture(e);
      }
      return Clicks.issueKey(h, g, "carol").compose(key -> Clicks.eventually(vertx,
          () -> Clicks.query(h, g, key, "carol", now - 60_000, now + 60_000, "minute").map(a -> a.getLong("total") == 40),
          10_000, "the orphaned clicks counted")
        // The file is emptied and deleted once its last chunk is in the stream, which can be after it is counted.
        .compose(v -> Clicks.eventually(vertx, () -> Future.succeededFuture(!Files.exists(dir.resolve("gone-instance.journal"))),
          10_000, "the replayed orphan removed"))
        .map(v -> {
          assertEquals(other.clickRecorder().journalPath(), dir.resolve("busy.journal").toAbsolutePath().normalize());
          assertEquals(true, Files.exists(dir.resolve("busy.journal")), "a live instance's journal is left alone");
          return null;
        }));
    })).onComplete(ctx.succeedingThenComplete());
  }

  /**
   * An orphaned journal longer than its creator's clicks shard can take at once is replayed whole: a drill killed an
   * instance holding 2,600 journaled clicks of one creator; the survivor sent the journal until the shard's ceiling
   * refused a chunk, released it, started over from its first line at the next scan, and did so forever (1,600 of
   * them never counted). The replay now waits at the refused chunk, holding the file, and goes on from there.
   */
  @Test
  void anOrphanedJournalLongerThanItsShardsCeilingIsReplayedWhole(Vertx vertx, VertxTestContext ctx) throws Exception {
    long now = System.currentTimeMillis();
    JsonObject survivor = Clicks.config(dir.resolve("survivor.journal"));
    // 50 entries per shard (800 over 16): one creator's 400 clicks take eight times its shard's room.
    survivor.getJsonObject("analytics").put("streamMaxLen", 800).put("batchSize", 20)
      .getJsonObject("journal").put("orphanScanMs", 200);
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 400; i++) {
      lines.append(new ClickEvent("long-orphan-" + i, "dave", "lnk_dave_0" + (i % 3 + 1), now, ClickEvent.SOURCE_REDIRECT)
        .toJson().encode()).append('\n');
    }
    Files.writeString(dir.resolve("killed-instance.journal"), lines.toString(), StandardCharsets.UTF_8);
    h.gateway(survivor).compose(g -> Clicks.issueKey(h, g, "dave").compose(key -> Clicks.eventually(vertx,
        () -> Clicks.query(h, g, key, "dave", now - 60_000, now + 60_000, "minute").map(a -> a.getLong("total") == 400),
        20_000, "all 400 orphaned clicks counted"))
      .compose(v -> Clicks.eventually(vertx, () -> Future.succeededFuture(!Files.exists(dir.resolve("killed-instance.journal"))),
        10_000, "the replayed orphan removed")))
      .onComplete(ctx.succeedingThenComplete());
  }
}
