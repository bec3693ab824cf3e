package dev.biogate.redis;

import dev.biogate.support.Eventually;
import dev.biogate.support.LogCapture;
import dev.biogate.support.MasterReplica;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When a master loses its replica, every shard on it finds out through its own failed write at about the same time:
 * the operator reads one line naming those shards, not one line per shard.
 */
@ExtendWith(VertxExtension.class)
class ReplicaWatchLogTest {

  private static final int SHARDS = 16;

  @Test
  void shardsRecheckedTogetherAreLoggedInOneLine(Vertx vertx, VertxTestContext ctx) {
    LogCapture log = LogCapture.of(ReplicaWatch.class, e -> e.getFormattedMessage().contains("has no replica") ? e.getFormattedMessage() : null);
    MasterReplica.start(vertx).compose(mr -> {
      Redis redis = Redis.createClient(vertx, mr.masterUrl());
      ReplicaWatch watch = new ReplicaWatch(vertx, redis, "auto", SHARDS, null, java.util.List.of(), 0);
      return watch.start()
        .compose(v -> Eventually.until(vertx, () -> watch.sample().map(x -> IntStream.range(0, SHARDS).allMatch(watch::waitForReplica)),
          10_000, "every shard seen with its replica"))
        // The replica leaves; each shard learns it as its writes find no replica (missed() asks for a recheck).
        .compose(v -> mr.replica().send(Request.cmd(Command.REPLICAOF).arg("NO").arg("ONE")))
        .compose(v -> Eventually.until(vertx, () -> mr.replica().send(Request.cmd(Command.INFO).arg("replication"))
          .map(r -> r.toString().contains("role:master")), 10_000, "the replica promoted"))
        .compose(v -> Eventually.until(vertx, () -> {
          for (int shard = 0; shard < SHARDS; shard++) {
            watch.missed(shard, 0, 1);
          }
          return Future.succeededFuture(IntStream.range(0, SHARDS).noneMatch(watch::waitForReplica)
            && log.lines().stream().mapToInt(ReplicaWatchLogTest::shardsNamed).sum() >= SHARDS);
        }, 10_000, "every shard found alone, and each named in a line"))
        .eventually(() -> {
          watch.stop();
          return redis.close();
        })
        .eventually(() -> mr.stop(vertx));
    }).eventually(() -> {
      log.close();
      return Future.succeededFuture();
    }).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      List<String> lines = log.lines();
      assertEquals(1, lines.size(), "one line for the shards that changed together: " + lines);
      assertTrue(lines.get(0).contains("shards 0-15"), lines.get(0));
      ctx.completeNow();
    })));
  }

  /** How many shards a line names: "shard 3" or "shards 0-2, 5". */
  private static int shardsNamed(String line) {
    int at = line.indexOf("shard");
    String rest = line.substring(at).replaceFirst("^shards? ", "");
    String list = rest.substring(0, rest.indexOf(" has"));
    int n = 0;
    for (String part : list.split(",\\s*")) {
      String[] ends = part.trim().split("-");
      n += ends.length == 1 ? 1 : Integer.parseInt(ends[1]) - Integer.parseInt(ends[0]) + 1;
    }
    return n;
  }
}
