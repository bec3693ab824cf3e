package dev.biogate.profile;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.util.function.Function;
import java.util.function.ToIntBiFunction;

/**
 * What the colder paths derive from cached copies (a redirect's map of targets, the links route's decoded links),
 * kept per copy within a bound of heap: a copy's value is computed once while it is in use, and the values of the
 * copies used least recently go first. Keys are copies by identity (weak keys: an entry leaves with its copy, and a
 * newer copy of the same profile derives its own). Shared by every event loop; upkeep runs on the calling thread, as
 * the profile cache's does, so no pool thread is woken by reads.
 * <p>
 * Kept with each copy for its life instead, these were counted (when they were) against {@code cache.l1MaxBytes},
 * a bound mostly of off-heap bytes and larger than the recommended heap: one links read of each of 20,000 cached
 * 8-link profiles took a 160 MiB heap from 41 MB live to 153 MB, and more ran it out of memory.
 */
public final class Derived<V> {

  private final Cache<CachedProfile, V> values;

  /** At most {@code maxBytes} of heap, each value weighing what {@code weigher} says (bytes, estimated). */
  public Derived(long maxBytes, ToIntBiFunction<CachedProfile, V> weigher) {
    this.values = Caffeine.newBuilder().executor(Runnable::run).weakKeys().maximumWeight(maxBytes)
      .weigher((CachedProfile copy, V value) -> Math.max(0, weigher.applyAsInt(copy, value))).build();
  }

  /** {@code copy}'s value: the one kept, or {@code derive}'s, kept from now on while the bound allows. */
  public V get(CachedProfile copy, Function<CachedProfile, V> derive) {
    return values.get(copy, derive);
  }

  /** The heap the kept values take, as weighed. */
  public long bytesHeld() {
    values.cleanUp();
    return values.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
  }

  /** How many values are kept. */
  public long size() {
    values.cleanUp();
    return values.estimatedSize();
  }
}
