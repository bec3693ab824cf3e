package dev.biogate.analytics;

import dev.biogate.support.Topology;
import dev.biogate.support.UnstartedHarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Analytics queries that overlap are all answered while Redis is healthy. Found with raw sockets: each query sent one
 * {@code HGETALL} per bucket (1,440 for a day by minute) at once on the event loop's shared Redis connection, whose
 * queue holds {@code redis.maxWaiting} (2,048) commands, so 3 concurrent day-by-minute queries got
 * {@code 503 unavailable} every time, and one creator querying in a loop made another creator's queries fail.
 */
class AnalyticsConcurrencyTest extends UnstartedHarnessTest {

  private static final long MINUTE = 60_000;

  @TempDir
  Path dir;

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = Topology.class, names = {"STANDALONE", "CLUSTER"})
  void sixOverlappingDayByMinuteQueriesOfTwoCreatorsAreAllAnswered(Topology topology, Vertx vertx, VertxTestContext ctx) {
    long now = System.currentTimeMillis() / MINUTE * MINUTE;
    long to = now + MINUTE;
    JsonObject config = Clicks.config(dir.resolve("clicks.journal"));
    // Two days by minute (2,880 buckets) for alice: more buckets than one Redis call reads.
    config.getJsonObject("analytics").put("maxBuckets", 3_000);
    h.start(topology).compose(x -> h.gateway(config)).compose(g -> {
      record(g, "demo", "lnk_demo_01", now - 10 * MINUTE, 3);
      record(g, "demo", "lnk_demo_02", now - 700 * MINUTE, 2);
      record(g, "demo", "lnk_demo_01", now - 1_439 * MINUTE, 1);
      record(g, "alice", "lnk_alice_01", now, 4);
      record(g, "alice", "lnk_alice_01", now - 2_000 * MINUTE, 5);
      return Clicks.eventually(vertx, () -> Future.succeededFuture(g.clickCounter().counted() == 15), 10_000, "15 clicks counted")
        .compose(v -> Future.all(Clicks.issueKey(h, g, "demo"), Clicks.issueKey(h, g, "alice")))
        .compose(keys -> {
          List<Future<JsonObject>> queries = new ArrayList<>();
          for (int i = 0; i < 3; i++) {
            queries.add(Clicks.query(h, g, keys.resultAt(0), "demo", to - 1_440 * MINUTE, to, "minute"));
            queries.add(Clicks.query(h, g, keys.resultAt(1), "alice", to - 2_880 * MINUTE, to, "minute"));
          }
          return Future.all(queries);
        });
    }).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      for (int i = 0; i < 6; i++) {
        JsonObject answer = all.resultAt(i);
        JsonArray series = answer.getJsonArray("series");
        if (i % 2 == 0) {
          assertEquals(6, answer.getLong("total"), answer.encode());
          assertEquals(new JsonObject().put("lnk_demo_01", 4).put("lnk_demo_02", 2), answer.getJsonObject("links"));
          assertEquals(1_440, series.size());
          assertEquals(1, series.getJsonObject(0).getLong("count"), "the first bucket");
          assertEquals(3, series.getJsonObject(1_429).getLong("count"));
        } else {
          assertEquals(9, answer.getLong("total"), answer.encode());
          assertEquals(2_880, series.size());
          assertEquals(5, series.getJsonObject(2_879 - 2_000).getLong("count"), "a bucket of the first Redis call");
          assertEquals(4, series.getJsonObject(2_879).getLong("count"), "the last bucket, of the second call");
        }
      }
      ctx.completeNow();
    })));
  }

  private static void record(dev.biogate.Gateway g, String user, String link, long ts, int times) {
    for (int i = 0; i < times; i++) {
      g.clickRecorder().record(ClickEvent.redirect(user, link, ts + i));
    }
  }
}
