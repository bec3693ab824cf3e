package dev.biogate.profile;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * L1: the in-process tier, shared by every event loop of the instance and bounded by bytes. A read is one Caffeine
 * lookup; entries leave when their copy can no longer be served at all, or when the byte bound evicts them.
 */
public final class ProfileCache {

  private final Cache<String, CachedProfile> cache;

  public ProfileCache(long maxBytes, Freshness freshness, LongSupplier clock) {
    this.cache = Caffeine.newBuilder()
      .maximumWeight(maxBytes)
      .weigher((String k, CachedProfile v) -> v.weight())
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

  /** Keeps the newer of the held and the offered copy, so a late, older answer never replaces a newer one. */
  public void put(CachedProfile p) {
    cache.asMap().merge(p.username(), p, (held, offered) -> offered.fetchedAtMs() >= held.fetchedAtMs() ? offered : held);
  }

  public void invalidate(String username) {
    cache.invalidate(username);
  }

  public long size() {
    return cache.estimatedSize();
  }
}
