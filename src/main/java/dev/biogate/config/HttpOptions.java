package dev.biogate.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** Where and how the gateway listens. */
public final class HttpOptions {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 8080;
  /** The management listener ({@code /metrics}, {@code /admin/*}, {@code /health*}): private by default. */
  public static final String DEFAULT_MANAGEMENT_HOST = "127.0.0.1";
  public static final int DEFAULT_MANAGEMENT_PORT = 9090;
  /** 0 = one HTTP verticle per available core. */
  public static final int DEFAULT_INSTANCES = 0;

  private final String host;
  private final int port;
  private final int instances;
  private final List<String> corsOrigins;
  private final double inboundRatePerSec;
  private final int inboundBurst;
  private final List<String> trustedProxies;
  private final boolean exemptLoopback;
  private final long shutdownGraceMs;
  private final boolean requestMetrics;
  private final String managementHost;
  private final int managementPort;
  private final long requestHeaderTimeoutMs;
  private final long requestBodyTimeoutMs;

  /** The request line and headers must arrive within this long of their first byte (slow-header clients). */
  public static final long DEFAULT_REQUEST_HEADER_TIMEOUT_MS = 10_000;
  /** A request body must arrive within this long of its headers (webhook bodies are at most a few hundred KiB). */
  public static final long DEFAULT_REQUEST_BODY_TIMEOUT_MS = 30_000;

  /** Deadline for a graceful stop: in-flight requests and stream entries get this long to finish. */
  public static final long DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

  /** Per-client request rate at the edge; generous, it only stops abusive clients. 0 disables the limit. */
  public static final double DEFAULT_INBOUND_RATE_PER_SEC = 200;
  public static final int DEFAULT_INBOUND_BURST = 400;

  public HttpOptions(JsonObject json) {
    this(Settings.of(json));
  }

  HttpOptions(Settings s) {
    this.host = s.string("host", DEFAULT_HOST);
    this.port = s.intIn("port", DEFAULT_PORT, 0, 65535);
    this.instances = s.intIn("instances", DEFAULT_INSTANCES, 0, 256);
    this.corsOrigins = List.copyOf(s.list("corsOrigins"));
    Settings inbound = s.section("inbound");
    this.inboundRatePerSec = inbound.doubleIn("ratePerSec", DEFAULT_INBOUND_RATE_PER_SEC, 0, 10_000_000);
    this.inboundBurst = inbound.intIn("burst", DEFAULT_INBOUND_BURST, 1, 100_000_000);
    this.trustedProxies = List.copyOf(inbound.list("trustedProxies"));
    this.exemptLoopback = inbound.bool("exemptLoopback", false);
    for (String proxy : trustedProxies) {
      if (!cidr(proxy.trim())) {
        throw inbound.invalid("trustedProxies", "'" + proxy + "' is not an IP address or CIDR (10.0.0.0/8, fd00::/8)");
      }
    }
    this.shutdownGraceMs = s.longIn("shutdownGraceMs", DEFAULT_SHUTDOWN_GRACE_MS, 0, 600_000);
    this.requestMetrics = s.bool("requestMetrics", true);
    Settings management = s.section("management");
    this.managementHost = management.string("host", DEFAULT_MANAGEMENT_HOST);
    this.managementPort = management.intIn("port", DEFAULT_MANAGEMENT_PORT, 0, 65535);
    this.requestHeaderTimeoutMs = s.longIn("requestHeaderTimeoutMs", DEFAULT_REQUEST_HEADER_TIMEOUT_MS, 100, 600_000);
    this.requestBodyTimeoutMs = s.longIn("requestBodyTimeoutMs", DEFAULT_REQUEST_BODY_TIMEOUT_MS, 100, 3_600_000);
    for (String origin : corsOrigins) {
      if (origin.contains("*")) {
        throw s.invalid("corsOrigins", "wildcard origins are not allowed; list each origin");
      }
      if (!origin.startsWith("http://") && !origin.startsWith("https://")) {
        throw s.invalid("corsOrigins", "'" + origin + "' must start with http:// or https://");
      }
    }
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

  public String host() { return host; }
  public int port() { return port; }
  public int instances() { return instances == 0 ? Math.max(1, Runtime.getRuntime().availableProcessors()) : instances; }
  public List<String> corsOrigins() { return corsOrigins; }
  public double inboundRatePerSec() { return inboundRatePerSec; }
  public int inboundBurst() { return inboundBurst; }
  /** Proxies (CIDRs or addresses) whose {@code X-Forwarded-For} hops are believed. */
  public List<String> trustedProxies() { return trustedProxies; }
  /** Loopback clients (local load tests, sidecars) are not limited: only when configured (health probes never are). */
  public boolean exemptLoopback() { return exemptLoopback; }
  public long shutdownGraceMs() { return shutdownGraceMs; }
  /** Per-request HTTP metrics (latency histograms per route); the gateway's own counters are always on. */
  public boolean requestMetrics() { return requestMetrics; }

  public String managementHost() { return managementHost; }
  public int managementPort() { return managementPort; }
  public long requestHeaderTimeoutMs() { return requestHeaderTimeoutMs; }
  public long requestBodyTimeoutMs() { return requestBodyTimeoutMs; }

  public JsonObject toJson() {
    return new JsonObject().put("host", host).put("port", port).put("instances", instances).put("shutdownGraceMs", shutdownGraceMs).put("requestMetrics", requestMetrics)
      .put("management", new JsonObject().put("host", managementHost).put("port", managementPort))
      .put("requestHeaderTimeoutMs", requestHeaderTimeoutMs).put("requestBodyTimeoutMs", requestBodyTimeoutMs)
      .put("corsOrigins", new JsonArray(corsOrigins))
      .put("inbound", new JsonObject().put("ratePerSec", inboundRatePerSec).put("burst", inboundBurst)
        .put("trustedProxies", new JsonArray(trustedProxies)).put("exemptLoopback", exemptLoopback));
  }
}
