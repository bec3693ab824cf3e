package dev.biogate.redis;

/**
 * How full a Redis server is against its {@code maxmemory}, read from {@code INFO memory}. Under {@code noeviction}
 * (the policy biogate needs: markers and streams must not be evicted) a server at its ceiling refuses every write with
 * {@code OOM}: webhooks are answered 503 and clicks journaled while reads still work, so health reports it.
 */
public final class RedisMemory {

  /** From this share of {@code maxmemory} on, health reports the server as degraded. */
  public static final int NEARLY_FULL_PERCENT = 95;

  private RedisMemory() {
  }

  /**
   * The percentage of {@code maxmemory} in use (at most 100), or -1 when the server has no ceiling, evicts keys
   * rather than refusing writes, or did not say.
   */
  public static int usedPercent(String infoMemory) {
    long used = number(infoMemory, "used_memory");
    long max = number(infoMemory, "maxmemory");
    String policy = RedisMode.field(infoMemory, "maxmemory_policy");
    if (used < 0 || max <= 0 || (policy != null && !"noeviction".equals(policy))) {
      return -1;
    }
    return (int) Math.min(100, used * 100 / max);
  }

  private static long number(String info, String field) {
    String v = RedisMode.field(info, field);
    if (v == null) {
      return -1;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
