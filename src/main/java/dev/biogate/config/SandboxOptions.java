package dev.biogate.config;

import io.vertx.core.json.JsonObject;

/**
 * The simulated Linktree API: where it listens, the token it accepts, the limit it enforces.
 *
 * @param syntheticProfiles how many generated profiles ({@code synth-0} … {@code synth-<n-1>}) exist besides the demo
 *                          ones; 0 = none
 * @param authenticateHealth {@code GET /health} demands the bearer token too (an upstream that authenticates every path)
 */
public record SandboxOptions(String host, int port, String token, int rateLimitPerMin, long rateWindowMs, int pageSize,
                             int syntheticProfiles, int syntheticLinks, boolean authenticateHealth) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 8090;
  /** Not a secret: the sandbox's well-known token, used when no LINKTREE_API_TOKEN is configured. */
  public static final String DEFAULT_TOKEN = "sandbox-token";
  public static final int DEFAULT_RATE_LIMIT_PER_MIN = 100;
  public static final long DEFAULT_RATE_WINDOW_MS = 60_000;
  public static final int DEFAULT_PAGE_SIZE = 10;
  /** Links on each generated profile: fewer than a page, so one upstream call loads one. */
  public static final int DEFAULT_SYNTHETIC_LINKS = 8;

  public SandboxOptions(JsonObject json) {
    this(Settings.of(json));
  }

  SandboxOptions(Settings s) {
    this(s.string("host", DEFAULT_HOST),
      s.intIn("port", DEFAULT_PORT, 0, 65535),
      s.string("token", DEFAULT_TOKEN),
      s.intIn("rateLimitPerMin", DEFAULT_RATE_LIMIT_PER_MIN, 1, 10_000_000),
      s.longIn("rateWindowMs", DEFAULT_RATE_WINDOW_MS, 100, 3_600_000),
      s.intIn("pageSize", DEFAULT_PAGE_SIZE, 1, 1000),
      s.intIn("syntheticProfiles", 0, 0, 10_000_000),
      s.intIn("syntheticLinks", DEFAULT_SYNTHETIC_LINKS, 1, 1000),
      s.bool("authenticateHealth", false));
  }

  public JsonObject toJson() {
    return new JsonObject().put("host", host).put("port", port).put("token", token)
      .put("rateLimitPerMin", rateLimitPerMin).put("rateWindowMs", rateWindowMs).put("pageSize", pageSize)
      .put("syntheticProfiles", syntheticProfiles).put("syntheticLinks", syntheticLinks)
      .put("authenticateHealth", authenticateHealth);
  }
}
