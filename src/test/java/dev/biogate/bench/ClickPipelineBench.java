package dev.biogate.bench;

import dev.biogate.Gateway;
import dev.biogate.analytics.ClickCounter;
import dev.biogate.analytics.ClickEvent;
import dev.biogate.analytics.ClickRecorder;
import dev.biogate.support.Harness;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark, not a test: the click pipeline alone at a fixed rate, without HTTP. Clicks are handed to the gateway's
 * recorder exactly as a redirect hands them over (batched stream append, then the counter consumers), {@code rate}
 * per second for {@code seconds}, all for one creator's 25 links (a viral profile: one stream shard). Every second
 * it samples clicks recorded, counted, the journal depth and the counter lag (how long ago the click now being
 * counted was handed over, to 1 s), then waits for the counters to catch up and prints the curve and a summary.
 * This separates what the counters keep up with from what one 2-vCPU machine can also answer over HTTP
 * ({@code bench/clicks.sh}). Run (after {@code mvn -q dependency:build-classpath -Dmdep.outputFile=cp.txt}):
 * {@code java -cp target/classes:target/test-classes:$(cat cp.txt) dev.biogate.bench.ClickPipelineBench [rate] [seconds]}
 */
public final class ClickPipelineBench {

  private static final int LINKS = 25;
  private static final long TICK_MS = 10;

  public static void main(String[] args) throws Exception {
    int rate = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 120;
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    Harness h = new Harness(vertx);
    h.start().await(60, TimeUnit.SECONDS);
    Gateway g = h.gateway(new JsonObject()).await(60, TimeUnit.SECONDS);
    ClickRecorder recorder = g.clickRecorder();
    ClickCounter counter = g.clickCounter();

    long[] offered = {0};
    long start = System.nanoTime();
    long loadEndNanos = start + TimeUnit.SECONDS.toNanos(seconds);
    // Each tick hands over what the rate owes by now, so a late timer catches up instead of lowering the rate.
    long timer = vertx.setPeriodic(TICK_MS, id -> {
      long now = System.nanoTime();
      long due = Math.min(now, loadEndNanos) - start;
      long owed = due * rate / 1_000_000_000L - offered[0];
      long ts = System.currentTimeMillis();
      for (long i = 0; i < owed; i++) {
        long n = offered[0]++;
        recorder.record(new ClickEvent("bench-" + start + "-" + n, "demo",
          String.format("lnk_demo_%02d", n % LINKS + 1), ts, ClickEvent.SOURCE_REDIRECT));
      }
    });

    List<long[]> samples = new ArrayList<>(); // t s, offered, counted, journal depth, queued
    long drainDeadline = -1;
    for (int t = 0; ; t++) {
      long wake = start + TimeUnit.SECONDS.toNanos(t);
      long sleep = wake - System.nanoTime();
      if (sleep > 0) {
        TimeUnit.NANOSECONDS.sleep(sleep);
      }
      long[] s = {t, offered[0], taken(counter), recorder.journalDepth(), recorder.queued()};
      samples.add(s);
      if (t >= seconds) {
        if (drainDeadline < 0) {
          drainDeadline = t + 120;
        }
        if ((s[2] >= s[1] && s[3] == 0 && s[4] == 0) || t >= drainDeadline) {
          break;
        }
      }
    }
    vertx.cancelTimer(timer);
    print(samples, rate, seconds);
    h.close().await(60, TimeUnit.SECONDS);
    vertx.close().await(10, TimeUnit.SECONDS);
    System.exit(0);
  }

  /** Entries the counters took off the stream, whatever the result (as {@code bench/clicks.sh} sums them). */
  private static long taken(ClickCounter c) {
    return c.counted() + c.repeats() + c.unattributed() + c.dropped();
  }

  private static void print(List<long[]> samples, int rate, int seconds) {
    System.out.printf("click pipeline without HTTP: %d clicks/s offered for %d s, %d CPUs%n", rate, seconds,
      Runtime.getRuntime().availableProcessors());
    System.out.printf("%6s %10s %10s %8s %8s %10s %7s%n", "t s", "offered/s", "counted/s", "journal", "queued", "backlog", "lag s");
    long maxLag = 0;
    long maxLagLoad = 0;
    long maxJournal = 0;
    int j = 0;
    long lag = 0;
    for (int i = 0; i < samples.size(); i++) {
      long[] s = samples.get(i);
      // The newest counted click was handed over at the first sample whose offered count had reached it.
      while (j < i && samples.get(j)[1] < s[2]) {
        j++;
      }
      lag = s[2] >= s[1] ? 0 : s[0] - samples.get(j)[0];
      maxLag = Math.max(maxLag, lag);
      if (s[0] <= seconds) {
        maxLagLoad = Math.max(maxLagLoad, lag);
      }
      maxJournal = Math.max(maxJournal, s[3]);
      long[] p = i > 0 ? samples.get(i - 1) : s;
      System.out.printf("%6d %10d %10d %8d %8d %10d %7d%n", s[0], s[1] - p[1], s[2] - p[2], s[3], s[4], s[1] - s[2], lag);
    }
    long[] last = samples.get(samples.size() - 1);
    long[] atEnd = samples.get(Math.min(seconds, samples.size() - 1));
    System.out.printf("%nclicks offered: %d (%d/s during the load); clicks counted: %d%n", last[1], atEnd[1] / Math.max(1, atEnd[0]), last[2]);
    System.out.printf("counter lag: max %d s during the load, max %d s overall, %d s at the end; journal depth max %d, %d at the end%n",
      maxLagLoad, maxLag, lag, maxJournal, last[3]);
    boolean met = last[2] >= last[1] && maxLag < 5 && maxJournal == 0;
    System.out.printf("goal (all counted, lag < 5 s, journal depth 0): %s%n", met ? "met" : "MISS");
  }
}
