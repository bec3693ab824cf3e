package dev.biogate.stream;

import dev.biogate.support.Eventually;
import dev.biogate.support.RedisClientTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Entries parked on a receiver that keeps answering but falls behind do not stop the reads. With its parked entries at
 * the ceiling, the engine used to stop reading while that receiver kept finishing attempts (it was not "slow"), so
 * every entry behind its backlog waited for the backlog: a drill saw a healthy destination fall 76 s behind one that
 * answered in 3-9 s under a steady 10 events a second (here: 90 of a 100-entry backlog were done before the entries
 * behind it were read). Past the ceiling such an entry is set aside now, and the engine reads on.
 */
class ParkingTest extends RedisClientTest {

  private static final String STREAM = "bg:test:{park}:s";
  private static final String GROUP = "g";
  private static final int BACKLOG = 100;

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  void aReceiverThatKeepsAnsweringButFallsBehindDoesNotStopTheReads(Vertx vertx, VertxTestContext ctx) {
    Map<String, AtomicInteger> handledA = new ConcurrentHashMap<>();
    List<String> handledB = new CopyOnWriteArrayList<>();
    int[] aWhenBWasDone = {-1};
    AtomicInteger busyA = new AtomicInteger();
    List<Consumer<String>> freed = new CopyOnWriteArrayList<>();
    StreamHandler handler = new StreamHandler() {
      @Override
      public Future<Outcome> handle(StreamEntry e) {
        if ("B".equals(e.get("r"))) {
          handledB.add(e.get("n"));
          if (handledB.size() == 5) {
            aWhenBWasDone[0] = handledA.size();
          }
          return Future.succeededFuture(Outcome.done());
        }
        // Receiver A works on two at once and answers each in 50 ms: always answering, never fast enough to keep up.
        if (busyA.get() >= 2) {
          return Future.succeededFuture(Outcome.park("A"));
        }
        busyA.incrementAndGet();
        return vertx.timer(50, TimeUnit.MILLISECONDS).map(t -> {
          handledA.computeIfAbsent(e.get("n"), n -> new AtomicInteger()).incrementAndGet();
          busyA.decrementAndGet();
          freed.forEach(l -> l.accept("A"));
          return Outcome.done();
        });
      }

      @Override
      public void onReceiverFree(Consumer<String> listener) {
        freed.add(listener);
      }
    };
    StreamStats stats = new StreamStats();
    StreamEngine engine = new StreamEngine(redis, CEILING_OF_8, "c1", handler, stats);
    start(vertx, engine, backlogThenFiveForB())
      .compose(id -> Eventually.until(vertx, () -> Future.succeededFuture(handledB.size() == 5), 20_000, "B's entries handled"))
      // The set-aside ones come back once idle (twice idleClaimMs here, on the same instance), each handled once.
      .compose(v -> Eventually.until(vertx, () -> Future.succeededFuture(handledA.size() == BACKLOG), 40_000,
        "every entry of A handled"))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertTrue(aWhenBWasDone[0] < BACKLOG / 2,
          "B's entries waited for A's backlog: " + aWhenBWasDone[0] + " of A's " + BACKLOG + " were done first");
        assertTrue(stats.setAside() > 0, "A's entries past the parked ceiling were set aside");
        assertEquals(List.of(), handledA.entrySet().stream().filter(e -> e.getValue().get() != 1).map(Map.Entry::getKey).toList(),
          "each of A's entries handled once");
        ctx.completeNow();
      })));
  }

  /**
   * Past the parked ceiling the entry set aside is the newest of the receiver with the most parked, not whichever came
   * next: a drill saw a destination that answered in 4 s fill the ceiling, and a healthy one's deliveries (parked for a
   * moment past its pace) were set aside with it and arrived 77-87 s late. Here a receiver answering in 10 ms, one
   * entry at a time, comes after a 100-entry backlog for one that takes 50 ms, two at a time.
   */
  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  void pastTheCeilingTheReceiverWithTheMostParkedGivesWay(Vertx vertx, VertxTestContext ctx) {
    TwoReceivers handler = new TwoReceivers(vertx, 2, 50, 10, 5);
    Map<String, AtomicInteger> handled = handler.handled;
    int[] aWhenBWasDone = handler.aWhenBWasDone;
    StreamStats stats = new StreamStats();
    StreamEngine engine = new StreamEngine(redis, CEILING_OF_8, "c1", handler, stats);
    start(vertx, engine, backlogThenFiveForB())
      .compose(id -> Eventually.until(vertx, () -> Future.succeededFuture(handled.size() == BACKLOG + 5), 40_000,
        "every entry handled"))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        // B's 5 take about 0.1 s; set aside, they came back after the idle claim (2 s here), after 92-96 of A's.
        assertTrue(aWhenBWasDone[0] < BACKLOG / 2,
          "B's entries were set aside behind A's backlog: " + aWhenBWasDone[0] + " of A's " + BACKLOG + " were done first");
        assertTrue(stats.setAside() > 0, "A's entries past the parked ceiling were set aside");
        assertEquals(List.of(), handled.entrySet().stream().filter(e -> e.getValue().get() != 1).map(Map.Entry::getKey).toList(),
          "each entry handled once");
        ctx.completeNow();
      })));
  }

  /**
   * Past the ceiling the receiver that gives way is the one whose oldest parked entry has waited longest, not the one
   * with the most parked: a re-drill sent 1,300 deliveries at 260 a second to a healthy destination paced at 100 a second
   * beside one answering in 4 s; the slow one's newest were set aside until both had as many parked, and then the
   * healthy one's too: 229 of its deliveries arrived 70-87 s late, though its parked ones went out within seconds. Here
   * A (one at a time, 400 ms each) and B (one at a time, 30 ms each) get 10 and 14 entries, alternating: with both
   * parked past the ceiling of 12, B has more parked than A but each of its entries waits a moment, A's for seconds.
   */
  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  void pastTheCeilingTheReceiverWhoseOldestWaitedLongestGivesWay(Vertx vertx, VertxTestContext ctx) {
    TwoReceivers handler = new TwoReceivers(vertx, 1, 400, 30, 14);
    Map<String, AtomicInteger> handled = handler.handled;
    int[] aWhenBWasDone = handler.aWhenBWasDone;
    StreamStats stats = new StreamStats();
    StreamPolicy policy = new StreamPolicy(STREAM, GROUP).soleReader(true).maxHeld(4).maxWaiting(2).maxParked(12)
      .pollMs(20).idlePollMaxMs(100).heartbeatTtlMs(3_000).idleClaimMs(1_500).reapIntervalMs(50);
    StreamEngine engine = new StreamEngine(redis, policy, "c1", handler, stats);
    start(vertx, engine, alternating(10, 14))
      .compose(id -> Eventually.until(vertx, () -> Future.succeededFuture(handled.size() == 24), 40_000,
        "every entry handled"))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        // B's 14 take about 0.5 s; one set aside came back only after the idle claim (3 s here, on this instance).
        assertTrue(aWhenBWasDone[0] >= 0 && aWhenBWasDone[0] <= 3,
          "B's entries were set aside with A's: " + aWhenBWasDone[0] + " of A's 10 were done first");
        assertTrue(stats.setAside() > 0, "A's entries past the parked ceiling were set aside");
        assertEquals(List.of(), handled.entrySet().stream().filter(e -> e.getValue().get() != 1).map(Map.Entry::getKey).toList(),
          "each entry handled once");
        ctx.completeNow();
      })));
  }

  /**
   * An entry read while older ones are parked on its receiver goes out after them: attempted at once, it took a place
   * the receiver had just freed (a re-drill: 59 of 1,300 deliveries went out ahead of older ones parked on the same
   * destination). Here the receiver's share grows while five entries are parked on it, and three more are read.
   */
  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  void anEntryReadWhileOlderOnesAreParkedGoesOutAfterThem(Vertx vertx, VertxTestContext ctx) {
    List<Integer> started = new CopyOnWriteArrayList<>();
    AtomicInteger busy = new AtomicInteger();
    AtomicInteger limit = new AtomicInteger(1);
    io.vertx.core.Promise<Void> first = io.vertx.core.Promise.promise();
    List<Consumer<String>> freed = new CopyOnWriteArrayList<>();
    StreamHandler handler = new StreamHandler() {
      @Override
      public Future<Outcome> handle(StreamEntry e) {
        if (busy.get() >= limit.get()) {
          return Future.succeededFuture(Outcome.park("A"));
        }
        busy.incrementAndGet();
        int n = Integer.parseInt(e.get("n"));
        started.add(n);
        return (n == 0 ? first.future() : vertx.timer(5, TimeUnit.MILLISECONDS).<Void>mapEmpty()).map(v -> {
          busy.decrementAndGet();
          freed.forEach(l -> l.accept("A"));
          return Outcome.done();
        });
      }

      @Override
      public void onReceiverFree(Consumer<String> listener) {
        freed.add(listener);
      }

      @Override
      public String receiverOf(StreamEntry e) {
        return "A";
      }
    };
    StreamPolicy policy = new StreamPolicy(STREAM, GROUP).soleReader(true).maxHeld(4).maxWaiting(2).maxParked(100)
      .pollMs(10).idlePollMaxMs(20).heartbeatTtlMs(3_000).idleClaimMs(30_000);
    StreamStats stats = new StreamStats();
    StreamEngine engine = new StreamEngine(redis, policy, "c1", handler, stats);
    start(vertx, engine, adds(0, 6))
      .compose(id -> Eventually.until(vertx, () -> Future.succeededFuture(stats.parked() >= 5), 20_000, "five parked"))
      .compose(v -> {
        limit.set(10);
        return redis.batch(adds(6, 9));
      })
      .compose(v -> Eventually.until(vertx, () -> Future.succeededFuture(stats.parked() >= 8 || started.size() > 1), 20_000,
        "the later entries read"))
      .compose(v -> {
        first.complete();
        return Eventually.until(vertx, () -> Future.succeededFuture(started.size() == 9), 20_000, "every entry started");
      })
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8), started, "the order the entries went out in");
        ctx.completeNow();
      })));
  }

  /**
   * Receiver A works on {@code aAtOnce} entries at once, {@code aMs} each; B on one, {@code bMs} each; an entry for a
   * busy receiver parks on it. Records each entry handled, and how many of A's were done when B's {@code bCount}th was.
   */
  private static final class TwoReceivers implements StreamHandler {
    final Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
    final int[] aWhenBWasDone = {-1};
    private final Vertx vertx;
    private final int aAtOnce;
    private final long aMs;
    private final long bMs;
    private final int bCount;
    private final AtomicInteger doneA = new AtomicInteger();
    private final AtomicInteger doneB = new AtomicInteger();
    private final Map<String, AtomicInteger> busy = Map.of("A", new AtomicInteger(), "B", new AtomicInteger());
    private final List<Consumer<String>> freed = new CopyOnWriteArrayList<>();

    TwoReceivers(Vertx vertx, int aAtOnce, long aMs, long bMs, int bCount) {
      this.vertx = vertx;
      this.aAtOnce = aAtOnce;
      this.aMs = aMs;
      this.bMs = bMs;
      this.bCount = bCount;
    }

    @Override
    public Future<Outcome> handle(StreamEntry e) {
      String r = e.get("r");
      boolean a = "A".equals(r);
      if (busy.get(r).get() >= (a ? aAtOnce : 1)) {
        return Future.succeededFuture(Outcome.park(r));
      }
      busy.get(r).incrementAndGet();
      return vertx.timer(a ? aMs : bMs, TimeUnit.MILLISECONDS).map(t -> {
        handled.computeIfAbsent(r + e.get("n"), n -> new AtomicInteger()).incrementAndGet();
        busy.get(r).decrementAndGet();
        if (a) {
          doneA.incrementAndGet();
        } else if (doneB.incrementAndGet() == bCount) {
          aWhenBWasDone[0] = doneA.get();
        }
        freed.forEach(l -> l.accept(r));
        return Outcome.done();
      });
    }

    @Override
    public void onReceiverFree(Consumer<String> listener) {
      freed.add(listener);
    }

    @Override
    public String receiverOf(StreamEntry e) {
      return e.get("r");
    }
  }

  /** Where the parked ceiling is 8, past 4 held, and a set-aside entry comes back after 2 s idle. */
  private static final StreamPolicy CEILING_OF_8 = new StreamPolicy(STREAM, GROUP).soleReader(true).maxHeld(4).maxWaiting(2)
    .maxParked(8).pollMs(20).idlePollMaxMs(100).heartbeatTtlMs(3_000).idleClaimMs(1_000).reapIntervalMs(50);

  /** A fresh stream and group holding {@code entries}, then {@code engine} deployed on it. */
  private Future<String> start(Vertx vertx, StreamEngine engine, List<Request> entries) {
    return redis.send(Request.cmd(Command.DEL).arg(STREAM))
      .compose(v -> redis.send(Request.cmd(Command.XGROUP).arg("CREATE").arg(STREAM).arg(GROUP).arg("$").arg("MKSTREAM")))
      .compose(v -> redis.batch(entries))
      .compose(v -> vertx.deployVerticle(engine));
  }

  /** {@value #BACKLOG} entries for receiver A, then 5 for B. */
  private static List<Request> backlogThenFiveForB() {
    List<Request> adds = new ArrayList<>();
    for (int i = 0; i < BACKLOG; i++) {
      adds.add(Request.cmd(Command.XADD).arg(STREAM).arg("*").arg("r").arg("A").arg("n").arg(i));
    }
    for (int i = 0; i < 5; i++) {
      adds.add(Request.cmd(Command.XADD).arg(STREAM).arg("*").arg("r").arg("B").arg("n").arg(i));
    }
    return adds;
  }

  /** {@code a} entries for A and {@code b} for B, alternating while both have some (deliveries fanned out to two). */
  private static List<Request> alternating(int a, int b) {
    List<Request> adds = new ArrayList<>();
    for (int i = 0; i < Math.max(a, b); i++) {
      if (i < a) {
        adds.add(Request.cmd(Command.XADD).arg(STREAM).arg("*").arg("r").arg("A").arg("n").arg(i));
      }
      if (i < b) {
        adds.add(Request.cmd(Command.XADD).arg(STREAM).arg("*").arg("r").arg("B").arg("n").arg(i));
      }
    }
    return adds;
  }

  private static List<Request> adds(int from, int to) {
    List<Request> adds = new ArrayList<>();
    for (int i = from; i < to; i++) {
      adds.add(Request.cmd(Command.XADD).arg(STREAM).arg("*").arg("n").arg(i));
    }
    return adds;
  }
}
