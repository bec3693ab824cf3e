package dev.biogate.redis;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sweep removes only marked directories whose maker this process can see is gone. */
class OwnedTempDirsTest {

  @TempDir
  Path root;

  @Test
  void aDirectoryWhoseMakerIsGoneIsRemovedAndNoOtherIs() throws Exception {
    Process ended = new ProcessBuilder("true").start();
    ProcessHandle endedHandle = ended.toHandle();
    String endedMark = OwnedTempDirs.mark(endedHandle); // read while it may still run: its start time is in the mark
    ended.waitFor(10, TimeUnit.SECONDS);
    endedHandle.onExit().get(10, TimeUnit.SECONDS);
    Process running = new ProcessBuilder("sleep", "60").start();
    try {
      Path ofEnded = marked("biogate-redis-1", endedMark);
      Files.writeString(ofEnded.resolve("appendonly.aof"), "*1\r\n$4\r\nPING\r\n");
      Path ofRunning = marked("biogate-redis-2", OwnedTempDirs.mark(running.toHandle()));
      Path ofThisJvm = marked("biogate-redis-bin-3", OwnedTempDirs.mark(ProcessHandle.current()));
      Path unmarked = Files.createDirectory(root.resolve("biogate-redis-4")); // being made, or not ours
      Path otherNamespace = marked("biogate-redis-5", endedMark.replaceAll("pidns=.*", "pidns=pid:[1]"));
      Path otherBoot = marked("biogate-redis-6", endedMark.replaceAll("boot=.*", "boot=00000000-0000"));
      Path otherName = marked("redis-7", endedMark);
      // A PID reused by a later process: the start time in the mark is not that process's.
      Path reusedPid = marked("biogate-redis-8", OwnedTempDirs.mark(running.toHandle()).replaceAll("start=\\d+", "start=1000"));

      assertEquals(2, OwnedTempDirs.sweep(root));

      assertFalse(Files.exists(ofEnded), "its maker is gone");
      assertFalse(Files.exists(reusedPid), "its maker is gone; another process has its PID");
      for (Path kept : new Path[] {ofRunning, ofThisJvm, unmarked, otherNamespace, otherBoot, otherName}) {
        assertTrue(Files.isDirectory(kept), kept + " is kept");
      }
    } finally {
      running.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void anUnreadableOrHalfWrittenMarkIsLeftAlone() throws Exception {
    Path half = marked("biogate-redis-a", "pid=");
    Path garbage = marked("biogate-redis-b", "\u0000\u0001 not a mark");
    assertEquals(0, OwnedTempDirs.sweep(root));
    assertTrue(Files.isDirectory(half));
    assertTrue(Files.isDirectory(garbage));
  }

  @Test
  void aDirectoryItMakesCarriesItsOwnMark() throws Exception {
    Path dir = OwnedTempDirs.create("test-");
    try {
      assertTrue(dir.getFileName().toString().startsWith(OwnedTempDirs.PREFIX + "test-"));
      assertTrue(OwnedTempDirs.goneOwner(dir).isEmpty(), "made by this live process");
      OwnedTempDirs.sweep(dir.getParent());
      assertTrue(Files.isDirectory(dir), "a sweep leaves the directory of a live maker");
    } finally {
      assertTrue(OwnedTempDirs.remove(dir));
    }
  }

  private Path marked(String name, String mark) throws Exception {
    Path dir = Files.createDirectory(root.resolve(name));
    Files.writeString(dir.resolve(OwnedTempDirs.MARK), mark, StandardCharsets.US_ASCII);
    return dir;
  }
}
