package dev.biogate.analytics;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Benchmark, not a test: click-journal append throughput with fsync on (every batch) and with the default group
 * commit (200 ms). Run: {@code java -cp target/classes:target/test-classes:$(cat cp.txt) dev.biogate.analytics.JournalBench}
 */
public final class JournalBench {

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    Vertx vertx = Vertx.vertx();
    for (int batch : new int[] {1, 100}) {
      for (long fsyncMs : new long[] {0, 200}) {
        Path dir = Files.createTempDirectory("journal-bench");
        ClickJournal journal = new ClickJournal(vertx, dir.resolve("clicks.journal"), fsyncMs);
        journal.open().await();
        List<ClickEvent> events = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
          events.add(ClickEvent.redirect("demo", "lnk_demo_01", System.currentTimeMillis()));
        }
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long appended = 0;
        while (System.nanoTime() < end) {
          journal.append(events).await();
          appended += batch;
        }
        long bytes = Files.size(journal.path());
        System.out.printf("batch %3d, fsync %s: %,d events/s (%,d appends/s), %.1f MB/s%n", batch,
          fsyncMs == 0 ? "every append" : "every " + fsyncMs + " ms", appended / seconds, appended / batch / seconds,
          bytes / 1e6 / seconds);
        journal.close().await();
      }
    }
    vertx.close().await();
  }
}
