package dev.biogate.config;

import io.vertx.core.json.JsonObject;

/** The simulated Linktree API: where it listens, the token it accepts, the limit it enforces. */
public final class SandboxOptions {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 8090;
  /** Not a secret: the sandbox's well-known token, used when no LINKTREE_API_TOKEN is configured. */
  public static final String DEFAULT_TOKEN = "sandbox-token";
  public static final int DEFAULT_RATE_LIMIT_PER_MIN = 100;
  public static final long DEFAULT_RATE_WINDOW_MS = 60_000;
  public static final int DEFAULT_PAGE_SIZE = 10;
  /** Links on each generated profile: fewer than a page, so one upstream call loads one. */
  public static final int DEFAULT_SYNTHETIC_LINKS = 8;

  private final String host;
  private final int port;
  private final String token;
  private final int rateLimitPerMin;
  private final long rateWindowMs;
  private final int pageSize;
  private final int syntheticProfiles;
  private final int syntheticLinks;

  public SandboxOptions(JsonObject json) {
    this(Settings.of(json));
  }

  SandboxOptions(Settings s) {
    this.host = s.string("host", DEFAULT_HOST);
    this.port = s.intIn("port", DEFAULT_PORT, 0, 65535);
    this.token = s.string("token", DEFAULT_TOKEN);
    this.rateLimitPerMin = s.intIn("rateLimitPerMin", DEFAULT_RATE_LIMIT_PER_MIN, 1, 10_000_000);
    this.rateWindowMs = s.longIn("rateWindowMs", DEFAULT_RATE_WINDOW_MS, 100, 3_600_000);
    this.pageSize = s.intIn("pageSize", DEFAULT_PAGE_SIZE, 1, 1000);
    this.syntheticProfiles = s.intIn("syntheticProfiles", 0, 0, 10_000_000);
    this.syntheticLinks = s.intIn("syntheticLinks", DEFAULT_SYNTHETIC_LINKS, 1, 1000);
  }

  public String host() { return host; }
  public int port() { return port; }
  public String token() { return token; }
  public int rateLimitPerMin() { return rateLimitPerMin; }
  public long rateWindowMs() { return rateWindowMs; }
  public int pageSize() { return pageSize; }
  /** How many generated profiles ({@code synth-0} … {@code synth-<n-1>}) exist besides the demo ones; 0 = none. */
  public int syntheticProfiles() { return syntheticProfiles; }
  public int syntheticLinks() { return syntheticLinks; }

  public JsonObject toJson() {
    return new JsonObject().put("host", host).put("port", port).put("token", token)
      .put("rateLimitPerMin", rateLimitPerMin).put("rateWindowMs", rateWindowMs).put("pageSize", pageSize)
      .put("syntheticProfiles", syntheticProfiles).put("syntheticLinks", syntheticLinks);
  }
}
