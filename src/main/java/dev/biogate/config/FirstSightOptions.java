package dev.biogate.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Locale;

/**
 * {@code linktree.firstSight}: how misses for names the gateway has never seen may spend the upstream budget. They
 * get a bounded share of it, and each client a quota of them; names the gateway has reason to know (fetched
 * before, named by a webhook, or listed here) keep the rest.
 *
 * @param share share of the budget never-seen names may use in any window
 * @param quotaBurst per-client token bucket for never-seen names: burst (0 = no quota)...
 * @param quotaPerMin ...and refill per minute
 * @param notFoundCost extra tokens charged when a never-seen name turns out not to exist (0 = none)
 * @param knownTtlMs how long a name stays known after its last successful fetch or webhook
 * @param known names always treated as known (e.g. the creators the deployment serves), lower-case
 * @param knownQuotaBurst per-client token bucket for misses of known names that nothing holds a copy of: burst (0 =
 *                        no quota)...
 * @param knownQuotaPerMin ...and refill per minute
 */
public record FirstSightOptions(double share, int quotaBurst, double quotaPerMin, int notFoundCost, long knownTtlMs,
                                List<String> known, int knownQuotaBurst, double knownQuotaPerMin) {

  /** Default per-client quota: a burst of this many never-seen names... */
  public static final int DEFAULT_QUOTA_BURST = 3;
  /** ...refilled at this many per minute, cluster-wide. */
  public static final double DEFAULT_QUOTA_PER_MIN = 6;
  /**
   * Tokens a client's quota is charged when one of its never-seen names turns out not to exist (404 upstream): a
   * client asking for names that exist pays one token each; one inventing names pays this much more per name, so
   * a few identities cannot spend the first-sight share that real first-time readers need.
   */
  public static final int DEFAULT_NOT_FOUND_COST = 10;
  /** How long a name stays known after its last successful fetch or webhook. */
  public static final long DEFAULT_KNOWN_TTL_MS = 30L * 24 * 3600 * 1000;
  /**
   * Default per-client quota of misses for known names nothing holds a copy of (each goes upstream, a profile and its
   * links two calls at least): a reader opens a few such pages a minute; one client asking for 45 known, uncached names
   * a minute spent the whole budget and other readers of uncached creators got 503s. A burst of this many...
   */
  public static final int DEFAULT_KNOWN_QUOTA_BURST = 10;
  /** ...refilled at this many per minute, cluster-wide: one such client spends at most about a fifth of the budget. */
  public static final double DEFAULT_KNOWN_QUOTA_PER_MIN = 10;

  FirstSightOptions(Settings s) {
    this(s.doubleIn("share", LinktreeOptions.DEFAULT_FIRST_SIGHT_SHARE, 0.0, 1.0),
      s.intIn("quotaBurst", DEFAULT_QUOTA_BURST, 0, 100_000),
      s.doubleIn("quotaPerMin", DEFAULT_QUOTA_PER_MIN, 0.0, 1_000_000),
      s.intIn("notFoundCost", DEFAULT_NOT_FOUND_COST, 0, 100_000),
      s.longIn("knownTtlMs", DEFAULT_KNOWN_TTL_MS, 1_000, 365L * 24 * 3600 * 1000),
      s.list("known").stream().map(n -> n.trim().toLowerCase(Locale.ROOT)).filter(n -> !n.isEmpty()).toList(),
      s.intIn("knownQuotaBurst", DEFAULT_KNOWN_QUOTA_BURST, 0, 100_000),
      s.doubleIn("knownQuotaPerMin", DEFAULT_KNOWN_QUOTA_PER_MIN, 0.0, 1_000_000));
  }

  JsonObject toJson() {
    return new JsonObject().put("share", share).put("quotaBurst", quotaBurst).put("quotaPerMin", quotaPerMin)
      .put("notFoundCost", notFoundCost)
      .put("knownTtlMs", knownTtlMs).put("known", new JsonArray(known)).put("knownQuotaBurst", knownQuotaBurst)
      .put("knownQuotaPerMin", knownQuotaPerMin);
  }
}
