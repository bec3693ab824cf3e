package dev.biogate.analytics;

import dev.biogate.Gateway;
import dev.biogate.support.HarnessTest;
import dev.biogate.support.LogCapture;
import dev.biogate.support.TestRedis;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import java.util.List;

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
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The click journal on disk: what a crashed run leaves behind is replayed on start, and instances never share one. */
class ClickJournalTest extends HarnessTest {

  @TempDir
  Path dir;

  private static String line(String id, String link, long ts) {
    return ClickEvent.redirect("bob", link, ts).toJson().put("event_id", id).encode() + "\n";
  }

  @Test
  void replaysAJournalLeftByACrashedRunOnceAndSkipsItsTornLine(Vertx vertx, VertxTestContext ctx) throws Exception {
    long now = System.currentTimeMillis();
    Path journal = dir.resolve("clicks.journal");
    // Three clicks, the second one twice (replayed before the crash), a garbage line, and a torn last line.
    String content = line("e-1", "lnk_bob_01", now) + line("e-2", "lnk_bob_02", now) + line("e-2", "lnk_bob_02", now)
      + "not json\n" + line("e-3", "lnk_bob_03", now) + "{\"event_id\":\"e-4\",\"link_";
    Files.writeString(journal, content, StandardCharsets.UTF_8);
    h.gateway(Clicks.config(journal)).compose(g -> Clicks.issueKey(h, g, "bob").compose(key ->
        Clicks.eventually(vertx, () -> Future.succeededFuture(g.clickRecorder().journalDepth() == 0
          && g.clickCounter().counted() == 3 && g.clickCounter().repeats() == 1), 5_000, "journal replayed")
          .compose(v -> {
            g.clickRecorder().record(ClickEvent.redirect("bob", "lnk_bob_01", now));
            return Clicks.eventually(vertx, () -> Future.succeededFuture(g.clickCounter().counted() == 4), 5_000, "live click");
          })
          .compose(v -> Clicks.query(h, g, key, "bob", now - 60_000, now + 60_000, "minute"))))
      .onComplete(ctx.succeeding(answer -> ctx.verify(() -> {
        assertEquals(new JsonObject().put("lnk_bob_01", 2).put("lnk_bob_02", 1).put("lnk_bob_03", 1), answer.getJsonObject("links"));
        assertEquals(0, Files.size(journal), "the replayed journal is emptied");
        ctx.completeNow();
      })));
  }

  /**
   * A ceiling whose per-shard share is smaller than a replay chunk ({@code streamMaxLen} 800 over 16 shards: 50 per
   * shard, against chunks of {@code batchSize} 500): the shard refused each chunk whole, every time, and the journal
   * never drained, so clicks answered with a 302 were never counted. Replay chunks now fit a shard's share.
   */
  @Test
  void aJournalDrainsWhenAShardsShareOfTheCeilingIsSmallerThanABatch(Vertx vertx, VertxTestContext ctx) throws Exception {
    long now = System.currentTimeMillis();
    Path journal = dir.resolve("clicks.journal");
    StringBuilder content = new StringBuilder();
    for (int i = 0; i < 120; i++) {
      content.append(line("small-" + i, "lnk_bob_01", now));
    }
    Files.writeString(journal, content, StandardCharsets.UTF_8);
    JsonObject config = Clicks.config(journal);
    config.getJsonObject("analytics").put("streamMaxLen", 800);
    h.gateway(config).compose(g -> Clicks.eventually(vertx, () -> Future.succeededFuture(g.clickRecorder().journalDepth() == 0
        && g.clickCounter().counted() == 120), 10_000, "journal replayed in chunks that fit"))
      .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * Redis refusing writes (OOM) still answers PING: the recovery probe found it "answering again" twice a second and
   * each replay failed again, two log lines a cycle (96 cycles in a minute in a drill), the WARN naming only
   * "ErrorType". A refusal now keeps the replay retrying under one line that names Redis's error code.
   */
  @Test
  void redisRefusingWritesIsReportedOnceByItsCodeAndTheJournalDrainsAfterwards(Vertx vertx, VertxTestContext ctx) {
    long now = System.currentTimeMillis();
    LogCapture capture = LogCapture.of(JournalReplay.class, e -> e.getLevel() + " " + e.getFormattedMessage());
    JsonObject config = Clicks.config(dir.resolve("clicks.journal"));
    config.getJsonObject("analytics").put("probeMs", 50);
    long[] pingsBefore = new long[1];
    h.gateway(config).compose(g -> g.redis().send(Request.cmd(Command.CONFIG).arg("SET").arg("maxmemory").arg("1"))
      .compose(v -> TestRedis.commandCalls(g.redis(), "ping")).compose(pings -> {
        pingsBefore[0] = pings;
        for (int i = 0; i < 5; i++) {
          g.clickRecorder().record(ClickEvent.redirect("bob", "lnk_bob_01", now + i));
        }
        // Many probe cycles while the writes are refused.
        return Clicks.eventually(vertx, () -> TestRedis.commandCalls(g.redis(), "ping").map(n -> n - pingsBefore[0] >= 20
          && g.clickRecorder().journalDepth() > 0), 10_000, "probes while Redis refuses writes");
      })
      .eventually(() -> g.redis().send(Request.cmd(Command.CONFIG).arg("SET").arg("maxmemory").arg("0")))
      .compose(v -> Clicks.eventually(vertx, () -> Future.succeededFuture(g.clickRecorder().journalDepth() == 0
        && g.clickCounter().counted() == 5), 10_000, "journal replayed once Redis takes writes")))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        capture.close();
        List<String> lines = capture.lines();
        assertEquals(1, lines.stream().filter(l -> l.startsWith("WARN") && l.contains("(OOM)")).count(), lines.toString());
        assertTrue(lines.stream().noneMatch(l -> l.contains("ErrorType")), lines.toString());
        assertTrue(lines.stream().filter(l -> l.startsWith("INFO redis answers again")).count() <= 1, lines.toString());
        ctx.completeNow();
      })));
  }

  /** Each locks its own file, and the one that did not get the configured file says which it writes (it used not to). */
  @Test
  void aSecondInstanceOnTheSameHostUsesItsOwnJournalFileAndSaysWhich(VertxTestContext ctx) {
    JsonObject cfg = Clicks.config(dir.resolve("clicks.journal"));
    dev.biogate.support.LogCapture said = dev.biogate.support.LogCapture.of(ClickRecorder.class, e -> e.getFormattedMessage());
    Future.all(h.gateway(cfg), h.gateway(cfg)).eventually(() -> {
      said.close();
      return Future.succeededFuture();
    }).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      Path a = ((Gateway) all.resultAt(0)).clickRecorder().journalPath();
      Path b = ((Gateway) all.resultAt(1)).clickRecorder().journalPath();
      assertTrue(!a.equals(b), "each instance locks its own file: " + a + " " + b);
      assertTrue(a.getFileName().toString().startsWith("clicks.journal") && b.getFileName().toString().startsWith("clicks.journal"));
      Path sibling = a.getFileName().toString().equals("clicks.journal") ? b : a;
      assertTrue(said.lines().contains("click journal " + dir.resolve("clicks.journal")
        + " is in use by another instance on this host; journaling to " + sibling), said.lines().toString());
      ctx.completeNow();
    })));
  }

  /**
   * A relative path (the default is {@code ./data/clicks.journal}) names the file the instance locks: it used to be
   * compared with the absolute path it resolved to, so a lone instance said the file was "in use by another instance".
   */
  @Test
  void aLoneInstanceGivenARelativePathJournalsThereAndSaysNothingOfAnother(VertxTestContext ctx) {
    Path cwd = Path.of("").toAbsolutePath();
    Path relative = cwd.relativize(dir.resolve("lone.journal").toAbsolutePath());
    assertTrue(!relative.isAbsolute(), relative.toString());
    JsonObject cfg = Clicks.config(relative);
    LogCapture said = LogCapture.of(ClickRecorder.class, e -> e.getFormattedMessage());
    h.gateway(cfg).eventually(() -> {
      said.close();
      return Future.succeededFuture();
    }).onComplete(ctx.succeeding(g -> ctx.verify(() -> {
      assertEquals(dir.resolve("lone.journal").toAbsolutePath().normalize(), g.clickRecorder().journalPath());
      assertTrue(said.lines().stream().noneMatch(l -> l.contains("in use by another instance")), said.lines().toString());
      ctx.completeNow();
    })));
  }
}
