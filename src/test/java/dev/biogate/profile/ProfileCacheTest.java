package dev.biogate.profile;

import dev.biogate.config.CacheOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * L1's upkeep runs on the thread that triggers it (an event loop in the gateway), never on a pool thread woken in
 * the background: the byte bound holds the moment a {@code put} returns, and a read sees every earlier write.
 */
class ProfileCacheTest {

  private static CachedProfile copy(String username, int bytes) {
    return new CachedProfile(username, true, System.currentTimeMillis(), Buffer.buffer("x".repeat(bytes)), null, "\"" + username + "\"");
  }

  @Test
  void theByteBoundHoldsAsSoonAsAPutReturns() {
    int weight = copy("user00", 1_000).weight();
    ProfileCache cache = new ProfileCache(4L * weight, new Freshness(new CacheOptions(new JsonObject())), System::currentTimeMillis);
    for (int i = 0; i < 200; i++) {
      cache.put(copy(String.format("user%02d", i % 100), 1_000));
      long size = cache.size();
      assertTrue(size <= 4, "after put #" + (i + 1) + ": " + size + " copies held, bound is 4");
    }
    int found = 0;
    for (int i = 0; i < 100; i++) {
      if (cache.get(String.format("user%02d", i)) != null) {
        found++;
      }
    }
    assertTrue(found >= 1 && found <= 4, found + " copies found");
  }

  /**
   * L1 holds no more copies than its share of the heap holds at {@link ProfileCache#HEAP_PER_COPY} each, however small
   * their bytes: the byte bound weighs mostly off-heap bytes, and a re-drill's ~128,000 cached 8-link copies under the
   * default 256 MiB left a 160 MiB heap 99.9 % full and collecting without end (each copy also takes ~1 KB of heap).
   */
  @Test
  void theCopiesHeldStayWithinTheirShareOfTheHeap() {
    long heapForCopies = 100L * ProfileCache.HEAP_PER_COPY;
    ProfileCache cache = new ProfileCache(1L << 20, heapForCopies, new Freshness(new CacheOptions(new JsonObject())),
      System::currentTimeMillis);
    for (int i = 0; i < 1_000; i++) {
      cache.put(copy(String.format("user%04d", i), 10));
    }
    assertTrue(cache.size() <= 100, cache.size() + " copies held; the heap holds 100");
    assertTrue(cache.size() >= 50, "copies are still held: " + cache.size());
  }

  @Test
  void aReadSeesTheLatestWriteAndAnInvalidationAtOnce() {
    ProfileCache cache = new ProfileCache(1L << 20, new Freshness(new CacheOptions(new JsonObject())), System::currentTimeMillis);
    cache.put(copy("demo", 100).withVersion(3));
    assertNotNull(cache.get("demo"));
    assertEquals(3, cache.get("demo").version());
    cache.invalidate("demo", 4);
    assertEquals(null, cache.get("demo"), "dropped: older than the invalidation");
    cache.put(copy("demo", 100).withVersion(3));
    assertEquals(null, cache.get("demo"), "an older copy arriving late is refused");
    cache.put(copy("demo", 100).withVersion(5));
    assertEquals(5, cache.get("demo").version());
  }

  @Test
  void anOutdatedCopyIsKeptOnlyToBeServedIfTheUpstreamFails() {
    Freshness freshness = new Freshness(new CacheOptions(new JsonObject()));
    ProfileCache cache = new ProfileCache(1L << 20, freshness, System::currentTimeMillis);
    cache.put(copy("demo", 100).withVersion(3));
    cache.outdate("demo", 4);
    CachedProfile kept = cache.get("demo");
    assertNotNull(kept, "the last good copy is kept");
    assertTrue(kept.outdated());
    assertEquals(3, kept.version());
    assertEquals(Freshness.State.ERROR_ONLY, freshness.of(kept, System.currentTimeMillis()), "refreshed before it is served");
    cache.put(copy("demo", 100).withVersion(3));
    assertTrue(cache.get("demo").outdated(), "an older copy arriving late does not replace it");
    CachedProfile decoded = ProfileCodec.decode("demo", ProfileCodec.encode(kept));
    assertTrue(decoded.outdated(), "the mark travels through L2");
    cache.put(copy("demo", 100).withVersion(4));
    assertEquals(false, cache.get("demo").outdated(), "the write that outdated it replaces it");
  }

  @Test
  void anOutdatedNotFoundCopyIsDropped() {
    ProfileCache cache = new ProfileCache(1L << 20, new Freshness(new CacheOptions(new JsonObject())), System::currentTimeMillis);
    cache.put(ProfileDocument.notFound("ghost", System.currentTimeMillis()).withVersion(3));
    cache.outdate("ghost", 4);
    assertEquals(null, cache.get("ghost"));
  }
}
