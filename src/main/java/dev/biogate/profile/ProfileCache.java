package dev.biogate.profile;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * L1: the in-process tier, shared by every event loop of the instance and bounded by bytes. A read is one Caffeine
 * lookup; entries leave when their copy can no longer be served at all, or when the byte bound evicts them.
 * <p>
 * Copies are ordered by {@link CachedProfile#version()}: an invalidation names the version of the write that caused
 * it, drops older copies (or keeps them {@link CachedProfile#outdated() outdated}, served only if the upstream fails),
 * and is remembered for a while as a floor, so that a read of L2 that started before the write and answers after the
 * invalidation cannot put the older copy back.
 */
public final class ProfileCache {

  /** How long an invalidation's version is remembered: far longer than any L2 read in flight takes. */
  private static final long FLOOR_MS = 60_000;

  private final Cache<String, CachedProfile> cache;
  private final Cache<String, Long> floors = Caffeine.newBuilder()
    .executor(Runnable::run)
    .expireAfterWrite(FLOOR_MS, TimeUnit.MILLISECONDS)
    .maximumSize(100_000)
    .build();

  /**
   * Heap a held copy takes besides its bytes (off-heap): its objects and the cache's entry, ~1 KB measured at 100,000
   * 8-link copies.
   */
  public static final int HEAP_PER_COPY = 1_024;

  public ProfileCache(long maxBytes, Freshness freshness, LongSupplier clock) {
    this(maxBytes, Long.MAX_VALUE, freshness, clock);
  }

  /**
   * At most {@code maxBytes} of copies (their weight, mostly off-heap bytes), and at most as many copies as
   * {@code heapForCopies} holds at {@link #HEAP_PER_COPY} each: every copy weighs at least the share of the byte bound
   * that its heap is of {@code heapForCopies}, so one bound keeps both. Weighed by their bytes alone, ~128,000 cached
   * 8-link copies under the default 256 MiB bound left a 160 MiB heap 99.9 % full and collecting without end.
   */
  public ProfileCache(long maxBytes, long heapForCopies, Freshness freshness, LongSupplier clock) {
    int floor = heapForCopies == Long.MAX_VALUE ? 0
      : (int) Math.min(Integer.MAX_VALUE, Math.ceil((double) maxBytes * HEAP_PER_COPY / Math.max(1, heapForCopies)));
    // Caffeine's upkeep (replaying reads into the eviction order, expiring, evicting) runs on the thread that
    // triggered it, an event loop, rather than on the common ForkJoinPool: a pool thread woken every few hundred
    // reads made the cached read pay four times the context switches of a plain Vert.x server (futex calls under
    // wrk -c256: 4,950 by the pool thread in 3 s against 1,500 by each event loop). The upkeep is short and never
    // blocks: no removal listener, no loader.
    this.cache = Caffeine.newBuilder()
      .executor(Runnable::run)
      .maximumWeight(maxBytes)
      .weigher((String k, CachedProfile v) -> Math.max(v.weight(), floor))
      .expireAfter(new Expiry<String, CachedProfile>() {
        @Override
        public long expireAfterCreate(String key, CachedProfile value, long currentTime) {
          return TimeUnit.MILLISECONDS.toNanos(freshness.remainingMs(value, clock.getAsLong()));
        }

        @Override
        public long expireAfterUpdate(String key, CachedProfile value, long currentTime, long currentDuration) {
          return expireAfterCreate(key, value, currentTime);
        }

        @Override
        public long expireAfterRead(String key, CachedProfile value, long currentTime, long currentDuration) {
          return currentDuration;
        }
      })
      .build();
  }

  public CachedProfile get(String username) {
    return cache.getIfPresent(username);
  }

  /**
   * Keeps the newer of the held and the offered copy, so a late, older answer never replaces a newer one; a copy
   * older than the last invalidation of its profile is not kept at all.
   */
  public void put(CachedProfile p) {
    Long floor = floors.getIfPresent(p.username());
    if (floor != null && p.version() < floor) {
      return;
    }
    cache.asMap().merge(p.username(), p, (held, offered) -> held.newerThan(offered) ? held : offered);
  }

  /** Drops the held copy if it is older than {@code version}, and refuses such copies for a while. */
  public void invalidate(String username, long version) {
    floors.asMap().merge(username, version, Math::max);
    cache.asMap().computeIfPresent(username, (u, held) -> held.version() < version ? null : held);
  }

  /**
   * Keeps the held profile as an outdated copy if it is older than {@code version} (a remembered 404 is dropped: it
   * has nothing to fall back on), and refuses older copies for a while. No JSON work: the copy keeps its bytes.
   */
  public void outdate(String username, long version) {
    floors.asMap().merge(username, version, Math::max);
    cache.asMap().computeIfPresent(username, (u, held) -> held.version() >= version ? held : held.found() ? held.asOutdated() : null);
  }

  /** Drops the held copy, whatever its version. */
  public void invalidate(String username) {
    cache.invalidate(username);
  }

  /**
   * Whether a copy this instance could serve is held: a profile, not a remembered 404, not past every window it may
   * be served in (Caffeine's views skip expired entries). Looks at no more than {@code scanLimit} entries, so a cache
   * full of remembered 404s costs a bounded scan.
   */
  public boolean holdsCopy(int scanLimit) {
    int seen = 0;
    for (CachedProfile p : cache.asMap().values()) {
      if (p.found()) {
        return true;
      }
      if (++seen >= scanLimit) {
        return false;
      }
    }
    return false;
  }

  /**
   * Up to {@code limit} usernames of profiles held (not remembered 404s), those this instance reads most first, in the
   * order Caffeine keeps for its own eviction: nothing is counted on a read for it.
   */
  public List<String> mostRead(int limit) {
    List<String> names = new ArrayList<>(limit);
    cache.policy().eviction().ifPresent(e -> e.hottest(limit).forEach((name, p) -> {
      if (p.found()) {
        names.add(name);
      }
    }));
    return names;
  }

  /** The usernames held now (a snapshot, in no order). */
  public List<String> usernames() {
    return new ArrayList<>(cache.asMap().keySet());
  }

  public long size() {
    return cache.estimatedSize();
  }
}
