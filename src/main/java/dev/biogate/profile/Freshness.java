package dev.biogate.profile;

import dev.biogate.config.CacheOptions;

/**
 * Where a cached copy stands at a given moment. A found profile moves through {@link State#FRESH} (serve),
 * {@link State#STALE} (serve and refresh once in the background), {@link State#ERROR_ONLY} (refresh first; serve
 * only if the upstream fails) and {@link State#EXPIRED} (unusable). A remembered 404 is FRESH for the negative TTL,
 * then EXPIRED. An {@link CachedProfile#outdated() outdated} copy is ERROR_ONLY from the start, for as long as the
 * copy is kept.
 */
public final class Freshness {

  public enum State { FRESH, STALE, ERROR_ONLY, EXPIRED }

  private final long freshMs;
  private final long revalidateUntilMs;
  private final long retentionMs;
  private final long negativeMs;

  public Freshness(CacheOptions options) {
    this.freshMs = options.freshTtlMs();
    this.revalidateUntilMs = options.freshTtlMs() + options.staleWhileRevalidateMs();
    this.retentionMs = options.retentionMs();
    this.negativeMs = options.negativeTtlMs();
  }

  public State of(CachedProfile p, long nowMs) {
    long age = nowMs - p.fetchedAtMs();
    if (!p.found()) {
      return age < negativeMs ? State.FRESH : State.EXPIRED;
    }
    if (p.outdated()) {
      return age < retentionMs ? State.ERROR_ONLY : State.EXPIRED;
    }
    if (age < freshMs) {
      return State.FRESH;
    }
    if (age < revalidateUntilMs) {
      return State.STALE;
    }
    return age < retentionMs ? State.ERROR_ONLY : State.EXPIRED;
  }

  /** How long a store should keep the copy from now (at least 1 ms so a PX argument stays valid). */
  public long remainingMs(CachedProfile p, long nowMs) {
    long age = Math.max(0, nowMs - p.fetchedAtMs());
    return Math.max(1, (p.found() ? retentionMs : negativeMs) - age);
  }

  /** How long a found copy is kept at all (fresh + stale-while-revalidate + stale-if-error). */
  public long retentionMs() {
    return retentionMs;
  }

  public long freshMs() {
    return freshMs;
  }

  /** How long a remembered 404 is served ({@code cache.negativeTtlMs}). */
  public long negativeMs() {
    return negativeMs;
  }
}
