package dev.biogate.redis;

/**
 * Every Redis key the gateway uses. Per-profile keys carry the username as a hash tag so that a profile's copy and
 * its fetch lock live in one Cluster slot; cluster-wide singletons (budget, streams) use the {@code {bg}} tag.
 */
public final class RedisKeys {

  /** Hash: link id → username of the cached profile holding it. */
  public static final String LINK_OWNERS = "bg:link-owners";

  private RedisKeys() {
  }

  public static String profile(String username) {
    return "bg:profile:{" + username + "}";
  }

  public static String fetchLock(String username) {
    return "bg:lock:{" + username + "}";
  }
}
