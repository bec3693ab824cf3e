package dev.biogate;

import dev.biogate.support.ZeroConfigProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A zero-config gateway leaves nothing in the temporary directory once it has stopped, and the next one removes what
 * a gateway killed with SIGKILL left there. Each run used to leave its extracted ~10 MB {@code redis-server} there for
 * good, and a killed run its Redis directory too, append-only file included.
 */
class PrivateRedisLeftoversTest {

  @TempDir
  Path work;

  @Test
  void aCleanStopLeavesNothingAndTheNextStartRemovesWhatAKilledRunLeft() throws Exception {
    Path tmp = Files.createDirectory(work.resolve("tmp"));
    Map<String, String> env = Map.of("JAVA_TOOL_OPTIONS", "-Djava.io.tmpdir=" + tmp);

    ZeroConfigProcess clean = ZeroConfigProcess.start(work, List.of(), env);
    try {
      clean.baseUrl(90, TimeUnit.SECONDS);
      assertFalse(entries(tmp).isEmpty(), "the private Redis runs from the temporary directory given");
    } finally {
      assertTrue(clean.terminate(30), "stopped");
    }
    assertEquals(List.of(), entries(tmp), "a clean stop removes the binary and the server's directory");

    ZeroConfigProcess killed = ZeroConfigProcess.start(work, List.of(), env);
    killed.baseUrl(90, TimeUnit.SECONDS);
    ProcessHandle redis = killed.privateRedis();
    killed.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    redis.onExit().get(10, TimeUnit.SECONDS); // the kernel's parent-death signal stops it
    List<String> left = entries(tmp);
    assertFalse(left.isEmpty(), "SIGKILL runs no clean-up");

    ZeroConfigProcess next = ZeroConfigProcess.start(work, List.of(), env);
    try {
      next.baseUrl(90, TimeUnit.SECONDS);
      List<String> now = entries(tmp);
      for (String old : left) {
        assertFalse(now.contains(old), old + " of the killed run is removed by the next start: " + now);
      }
      assertFalse(now.isEmpty(), "the running gateway's own files stay");
    } finally {
      assertTrue(next.terminate(30), "stopped");
    }
    assertEquals(List.of(), entries(tmp));
  }

  private static List<String> entries(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("hsperfdata")).sorted().toList();
    }
  }
}
