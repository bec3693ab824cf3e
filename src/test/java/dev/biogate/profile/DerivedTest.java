package dev.biogate.profile;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the colder paths derive from cached copies is kept per copy, within a bound of heap. Kept with each copy for its
 * life, a redirect's map of targets and the links route's decoded links were bounded by nothing that saw the heap:
 * one links read of each of 20,000 cached 8-link profiles ran a 160 MiB heap out of memory (an attack pass).
 */
class DerivedTest {

  private static CachedProfile copy(String username) {
    return new CachedProfile(username, true, System.currentTimeMillis(), Buffer.buffer("{\"links\":[]}"), null, "\"" + username + "\"");
  }

  @Test
  void aValueIsDerivedOncePerCopyAndEachCopyHasItsOwn() {
    Derived<Object> derived = new Derived<>(1 << 20, (c, v) -> 100);
    AtomicInteger runs = new AtomicInteger();
    CachedProfile copy = copy("demo");
    Object first = derived.get(copy, c -> {
      runs.incrementAndGet();
      return new Object();
    });
    assertSame(first, derived.get(copy, c -> {
      runs.incrementAndGet();
      return new Object();
    }));
    assertEquals(1, runs.get(), "derived once");
    assertNotSame(first, derived.get(copy("demo"), c -> new Object()), "a newer copy of the same profile derives its own");
  }

  @Test
  void theValuesKeptStayWithinTheBound() {
    Derived<byte[]> derived = new Derived<>(10_000, (c, v) -> v.length);
    List<CachedProfile> copies = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      CachedProfile copy = copy("user" + i);
      copies.add(copy); // each copy stays alive: only the bound can drop its value
      assertEquals(1_000, derived.get(copy, c -> new byte[1_000]).length);
      assertTrue(derived.bytesHeld() <= 10_000, "after " + (i + 1) + " copies: " + derived.bytesHeld() + " bytes kept");
    }
    assertTrue(derived.size() >= 5, "the bound keeps several: " + derived.size());
  }
}
