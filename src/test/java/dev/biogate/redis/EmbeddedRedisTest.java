package dev.biogate.redis;

import dev.biogate.support.Resp;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The private redis-server of the zero-config run works in a directory of its own. It used to run in the directory
 * the gateway was started from and load whatever {@code dump.rdb} it found there: an RDB from a newer Redis (a local
 * server's, or a replica's sync file) made it exit at once, and the gateway failed to start.
 */
class EmbeddedRedisTest {

  @Test
  void runsInAPrivateDirectoryThatIsRemovedWhenItStops() throws Exception {
    EmbeddedRedis redis = EmbeddedRedis.start().stoppedByCaller();
    Path dir;
    try {
      dir = Path.of(((java.util.List<?>) Resp.call(redis.port(), "CONFIG", "GET", "dir")).get(1).toString());
      assertNotEquals(Path.of("").toAbsolutePath(), dir, "not the directory the gateway runs in");
      assertTrue(Files.isDirectory(dir), dir.toString());
      try (var files = Files.list(dir)) {
        assertEquals(java.util.List.of(OwnedTempDirs.MARK, "redis-server.log"),
          files.map(f -> f.getFileName().toString()).sorted().toList(),
          "a directory of its own, holding only its maker's mark and the server's log: " + dir);
      }
    } finally {
      redis.stop();
    }
    assertFalse(Files.exists(dir), "removed when the server stops: " + dir);
  }
}
