package dev.biogate.sandbox;

import dev.biogate.config.SandboxOptions;

/**
 * Everything the sandbox remembers, for tests that drive it in-process rather than over
 * {@code /__sandbox}: the profiles it serves, the faults it simulates, the per-token limiter and the
 * request statistics. Each part is thread-safe on its own.
 */
public final class SandboxState {

  private final SandboxProfiles profiles;
  private final SandboxFaults faults = new SandboxFaults();
  private final SandboxStats stats = new SandboxStats();
  private final SandboxRateLimiter limiter;
  private final SandboxWrites writes;
  private final SandboxWebhooks webhooks = new SandboxWebhooks();
  private final int pageSize;

  public SandboxState(SandboxOptions options) {
    this.profiles = new SandboxProfiles(options.syntheticProfiles(), options.syntheticLinks());
    this.writes = new SandboxWrites(profiles);
    this.limiter = new SandboxRateLimiter(options.rateLimitPerMin(), options.rateWindowMs());
    this.pageSize = options.pageSize();
  }

  public SandboxProfiles profiles() {
    return profiles;
  }

  public SandboxFaults faults() {
    return faults;
  }

  public SandboxStats stats() {
    return stats;
  }

  public SandboxRateLimiter limiter() {
    return limiter;
  }

  /** Link writes, with the per-idempotency-key count of writes applied. */
  public SandboxWrites writes() {
    return writes;
  }

  /** The account's webhook subscriptions. */
  public SandboxWebhooks webhooks() {
    return webhooks;
  }

  /** Links per page in profile and link-page responses. */
  public int pageSize() {
    return pageSize;
  }

  /** Demo profiles restored, statistics cleared, faults back to ok, limiter emptied, writes and subscriptions forgotten. */
  public void reset() {
    profiles.reset();
    stats.reset();
    faults.reset();
    limiter.reset();
    writes.reset();
    webhooks.reset();
  }
}
