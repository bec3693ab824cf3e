package dev.biogate.redis;

import dev.biogate.support.RedisProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code redis/redis.conf}, the settings production Redis runs with, is read by a real {@code redis-server} (the binary
 * the build uses) and holds what the gateway relies on.
 * <p>
 * The AOF rewrite threshold comes from a finding: under a webhook burst the AOF grows by tens of MB a second, and with
 * Redis's default threshold (rewrite once it has grown by 64 MB and doubled) a young data set was rewritten every
 * few seconds. Each rewrite forks, which stalled every client for 10-23 ms on a 2-vCPU host, and the child then
 * competes for the CPU: the ingest p99 went from ~15 ms to 36-49 ms (BENCHMARKS.md, section 6).
 */
class ProductionRedisConfTest {

  private static RedisProcess redis;

  @BeforeAll
  static void start() throws Exception {
    List<String> lines = Files.readAllLines(Path.of("redis", "redis.conf"), StandardCharsets.UTF_8);
    redis = RedisProcess.start("production-conf", lines, false, false);
  }

  @AfterAll
  static void stop() {
    if (redis != null) {
      redis.kill();
    }
  }

  @Test
  void persistsTheStreamsAndNeverEvicts() {
    assertEquals("yes", setting("appendonly"));
    assertEquals("everysec", setting("appendfsync"));
    assertEquals("noeviction", setting("maxmemory-policy"));
  }

  @Test
  void rewritesTheAofOnlyAfterAGigabyteOfGrowth() {
    long minSize = Long.parseLong(setting("auto-aof-rewrite-min-size"));
    assertTrue(minSize >= 1L << 30, "auto-aof-rewrite-min-size " + minSize);
    assertEquals("100", setting("auto-aof-rewrite-percentage"), "then once it has doubled, as by default");
  }

  @Test
  void aClusterNodeKeepsServingItsSlotsWhenAnotherMasterDies() {
    assertEquals("no", setting("cluster-require-full-coverage"));
  }

  private static String setting(String name) {
    List<?> reply = (List<?>) redis.call("CONFIG", "GET", name);
    assertEquals(2, reply.size(), name + ": " + reply);
    return reply.get(1).toString();
  }
}
