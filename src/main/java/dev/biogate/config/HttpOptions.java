package dev.biogate.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Where and how the gateway listens.
 *
 * @param trustedProxies proxies (CIDRs or addresses) whose {@code X-Forwarded-For} hops are believed
 * @param exemptLoopback loopback clients (local load tests, sidecars) are not limited: only when configured (health
 *                       probes never are)
 * @param requestMetrics per-request HTTP metrics (latency histograms per route); the gateway's own counters are always on
 * @param cursorSecret key of the links-cursor HMAC, shared by every instance; {@code null} = a random key per process
 * @param maxConnections open connections the client listener holds at most; 0 = derived from the process's file
 *                       descriptor limit (all but a reserve for Redis, the upstream and files)
 * @param maxConnectionsPerClient open connections one client address holds at most (0 = no limit); trusted proxies,
 *                                and loopback when {@code exemptLoopback}, are not limited
 * @param managementMaxConnections open connections the management listener holds at most (idle ones make room)
 * @param closeLingerMs how long a connection closing after an answer, its sending side shut, waits at most for the
 *                      client's close before it closes (a client still sending draws a reset that can discard the answer)
 */
public record HttpOptions(String host, int port, int instances, List<String> corsOrigins, double inboundRatePerSec,
                          int inboundBurst, List<String> trustedProxies, boolean exemptLoopback, long shutdownGraceMs,
                          boolean requestMetrics, String managementHost, int managementPort, long requestHeaderTimeoutMs,
                          long requestBodyTimeoutMs, Secret cursorSecret, int maxConnections, int maxConnectionsPerClient,
                          int managementMaxConnections, long closeLingerMs) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 8080;
  public static final long DEFAULT_CLOSE_LINGER_MS = 1_000;
  /** The management listener ({@code /metrics}, {@code /admin/*}, {@code /health*}): private by default. */
  public static final String DEFAULT_MANAGEMENT_HOST = "127.0.0.1";
  public static final int DEFAULT_MANAGEMENT_PORT = 9090;
  /** Probes, scrapes and operators need a few connections; the ceiling keeps a flood within the descriptor reserve. */
  public static final int DEFAULT_MANAGEMENT_MAX_CONNECTIONS = 256;
  /** 0 = one HTTP verticle per available core. */
  public static final int DEFAULT_INSTANCES = 0;
  /** The request line and headers must arrive within this long of their first byte (slow-header clients). */
  public static final long DEFAULT_REQUEST_HEADER_TIMEOUT_MS = 10_000;
  /** A request body must arrive within this long of its headers (webhook bodies are at most a few hundred KiB). */
  public static final long DEFAULT_REQUEST_BODY_TIMEOUT_MS = 30_000;
  /** Deadline for a graceful stop: in-flight requests and stream entries get this long to finish. */
  public static final long DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
  /** Per-client request rate at the edge; generous, it only stops abusive clients. 0 disables the limit. */
  public static final double DEFAULT_INBOUND_RATE_PER_SEC = 200;
  public static final int DEFAULT_INBOUND_BURST = 400;
  /** Connections one client address may hold: far above a browser's six, or a carrier NAT's share of a viral page. */
  public static final int DEFAULT_MAX_CONNECTIONS_PER_CLIENT = 1024;

  public HttpOptions(JsonObject json) {
    this(Settings.of(json));
  }

  HttpOptions(Settings s) {
    this(s.string("host", DEFAULT_HOST),
      s.intIn("port", DEFAULT_PORT, 0, 65535),
      s.intIn("instances", DEFAULT_INSTANCES, 0, 256),
      List.copyOf(s.list("corsOrigins")),
      s.section("inbound").doubleIn("ratePerSec", DEFAULT_INBOUND_RATE_PER_SEC, 0, 10_000_000),
      s.section("inbound").intIn("burst", DEFAULT_INBOUND_BURST, 1, 100_000_000),
      trustedProxies(s.section("inbound")),
      s.section("inbound").bool("exemptLoopback", false),
      s.longIn("shutdownGraceMs", DEFAULT_SHUTDOWN_GRACE_MS, 0, 600_000),
      s.bool("requestMetrics", true),
      s.section("management").string("host", DEFAULT_MANAGEMENT_HOST),
      s.section("management").intIn("port", DEFAULT_MANAGEMENT_PORT, 0, 65535),
      s.longIn("requestHeaderTimeoutMs", DEFAULT_REQUEST_HEADER_TIMEOUT_MS, 100, 600_000),
      s.longIn("requestBodyTimeoutMs", DEFAULT_REQUEST_BODY_TIMEOUT_MS, 100, 3_600_000),
      Secret.of(s.string("cursorSecret", null)),
      s.intIn("maxConnections", 0, 0, 10_000_000),
      s.intIn("maxConnectionsPerClient", DEFAULT_MAX_CONNECTIONS_PER_CLIENT, 0, 10_000_000),
      s.section("management").intIn("maxConnections", DEFAULT_MANAGEMENT_MAX_CONNECTIONS, 1, 100_000),
      s.longIn("closeLingerMs", DEFAULT_CLOSE_LINGER_MS, 0, 60_000));
    checkHost(s, "host", host);
    checkHost(s.section("management"), "host", managementHost);
    if (cursorSecret != null && cursorSecret.reveal().length() < 16) {
      throw s.invalid("cursorSecret", "must be at least 16 characters");
    }
    for (String origin : corsOrigins) {
      if (origin.contains("*")) {
        throw s.invalid("corsOrigins", "wildcard origins are not allowed; list each origin");
      }
      if (!origin.startsWith("http://") && !origin.startsWith("https://")) {
        throw s.invalid("corsOrigins", "'" + origin + "' must start with http:// or https://");
      }
    }
  }

  /**
   * A listener host is an IP address or a name. Digits and dots only (999.1.1.1, 10.0.0) can only mean an IPv4
   * address, so one that is not is refused here, by name; a name that does not resolve is reported when the listener
   * binds (see Launcher).
   */
  private static void checkHost(Settings s, String key, String host) {
    if (host == null || host.isBlank()) {
      throw s.invalid(key, "must be an IP address or a host name");
    }
    if (host.matches("[0-9.]+") && !io.netty.util.NetUtil.isValidIpV4Address(host)) {
      throw s.invalid(key, "'" + host + "' is not an IPv4 address");
    }
    if (host.indexOf(':') >= 0 && !io.netty.util.NetUtil.isValidIpV6Address(host)) {
      throw s.invalid(key, "'" + host + "' is not an IPv6 address");
    }
  }

  private static List<String> trustedProxies(Settings inbound) {
    List<String> proxies = List.copyOf(inbound.list("trustedProxies"));
    for (String proxy : proxies) {
      if (!cidr(proxy.trim())) {
        throw inbound.invalid("trustedProxies", "'" + proxy + "' is not an IP address or CIDR (10.0.0.0/8, fd00::/8)");
      }
    }
    return proxies;
  }

  private static boolean cidr(String s) {
    int slash = s.indexOf('/');
    String addr = slash < 0 ? s : s.substring(0, slash);
    boolean v4 = io.netty.util.NetUtil.isValidIpV4Address(addr);
    if (!v4 && !io.netty.util.NetUtil.isValidIpV6Address(addr)) {
      return false;
    }
    if (slash < 0) {
      return true;
    }
    String bits = s.substring(slash + 1);
    if (bits.isEmpty() || bits.length() > 3 || !bits.chars().allMatch(Character::isDigit)) {
      return false;
    }
    return Integer.parseInt(bits) <= (v4 ? 32 : 128);
  }

  /**
   * HTTP verticles to deploy: the configured count, or when it is 0 two per available core, one on each of Vert.x's
   * event loops. With the load generator and Redis on the same cores, a loop descheduled mid-turn holds up only its
   * share of the connections: on two cores four verticles served 1.10 times the cached reads of two with 0.71 times
   * the c64 p99, and 1.38 times the webhook deliveries.
   */
  @Override
  public int instances() { return instances == 0 ? Math.max(1, 2 * Runtime.getRuntime().availableProcessors()) : instances; }

  /**
   * How long a stop may take before what is left is closed at once: the drain ({@code shutdownGraceMs}) and 5 s for
   * the rest (the consumers' and Redis's close, the private Redis); the JVM exits shortly after.
   */
  public long stopDeadlineMs() { return shutdownGraceMs + 5_000; }

  public JsonObject toJson() {
    return new JsonObject().put("host", host).put("port", port).put("instances", instances).put("shutdownGraceMs", shutdownGraceMs).put("closeLingerMs", closeLingerMs).put("requestMetrics", requestMetrics)
      .put("management", new JsonObject().put("host", managementHost).put("port", managementPort)
        .put("maxConnections", managementMaxConnections))
      .put("requestHeaderTimeoutMs", requestHeaderTimeoutMs).put("requestBodyTimeoutMs", requestBodyTimeoutMs)
      .put("maxConnections", maxConnections).put("maxConnectionsPerClient", maxConnectionsPerClient)
      .put("corsOrigins", new JsonArray(corsOrigins))
      .put("inbound", new JsonObject().put("ratePerSec", inboundRatePerSec).put("burst", inboundBurst)
        .put("trustedProxies", new JsonArray(trustedProxies)).put("exemptLoopback", exemptLoopback));
  }
}
