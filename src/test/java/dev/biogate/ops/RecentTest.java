package dev.biogate.ops;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** One operation per period, however often its result is asked for; a failure is not kept. */
class RecentTest {

  private final AtomicLong now = new AtomicLong(1_000);
  private final List<Promise<String>> calls = new ArrayList<>();
  private final Recent<String> recent = new Recent<>(1_000, now::get, () -> {
    Promise<String> p = Promise.promise();
    calls.add(p);
    return p.future();
  });

  @Test
  void callersShareTheCallInFlightAndItsResultWhileFresh() {
    Future<String> first = recent.get();
    Future<String> second = recent.get();
    assertSame(first, second, "shared while in flight");
    calls.get(0).complete("a");
    now.addAndGet(999);
    assertEquals("a", recent.get().result());
    assertEquals(1, calls.size(), "one operation for three askers within the period");
    now.addAndGet(1);
    recent.get();
    assertEquals(2, calls.size(), "a result as old as the period is taken again");
  }

  @Test
  void aFailureIsNotKept() {
    recent.get();
    calls.get(0).fail("down");
    recent.get();
    assertEquals(2, calls.size());
  }
}
