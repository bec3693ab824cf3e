package dev.biogate.redis;

/**
 * Every Redis key the gateway uses. Per-profile keys carry the username as a hash tag so that a profile's copy and
 * its fetch lock live in one Cluster slot; cluster-wide singletons (budget, streams) use the {@code {bg}} tag.
 */
public final class RedisKeys {

  /** Hash: link id → username of the cached profile holding it. */
  public static final String LINK_OWNERS = "bg:link-owners";

  /** Sorted set: the upstream budget's permit log (see redis/rate_limit.lua). */
  public static String budgetLog(String budget) {
    return "bg:budget:{" + budget + "}:log";
  }

  /** String: the upstream asked everyone to back off until this time (Redis TIME, microseconds). */
  public static String budgetBlocked(String budget) {
    return "bg:budget:{" + budget + "}:blocked";
  }

  /** Sorted set: instances sharing the budget, by last heartbeat. */
  public static String budgetInstances(String budget) {
    return "bg:budget:{" + budget + "}:instances";
  }

  private RedisKeys() {
  }

  public static String profile(String username) {
    return "bg:profile:{" + username + "}";
  }

  public static String fetchLock(String username) {
    return "bg:lock:{" + username + "}";
  }
}
