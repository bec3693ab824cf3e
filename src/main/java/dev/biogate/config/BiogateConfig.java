package dev.biogate.config;

import io.vertx.core.json.JsonObject;

import java.net.InetAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The gateway's whole typed configuration, built from the merged JSON (see {@link ConfigLoader}).
 * Construction validates every setting; the first problem surfaces as a {@link ConfigException}.
 */
public final class BiogateConfig {

  private final JsonObject source;
  private final HttpOptions http;
  private final RedisConfig redis;
  private final LinktreeOptions linktree;
  private final CacheOptions cache;
  private final SandboxOptions sandbox;
  private final WebhookOptions webhooks;
  private final AdminOptions admin;
  private final KlaviyoOptions klaviyo;
  private final DestinationOptions destinations;
  private final LinkmeAttributionOptions linkme;
  private final AnalyticsOptions analytics;
  private final TlsOptions tls;
  private final AccessLogOptions accessLog;
  private final JobsOptions jobs;
  private final Map<String, String> origins;
  private final Map<String, String> secretFiles;
  /** Variables set to an empty value, ignored as if unset (see {@link ConfigLoader#load(Map, java.nio.file.Path)}). */
  private final List<String> emptyVariables;
  private final List<String> warnings;

  /** Linktree's hard limit per API key; a budget above it only earns 429s. */
  public static final int PROVIDER_LIMIT_PER_MIN = 100;

  public BiogateConfig(JsonObject json) {
    this(json, Map.of(), Map.of(), List.of());
  }

  BiogateConfig(JsonObject json, Map<String, String> origins, Map<String, String> secretFiles, List<String> emptyVariables) {
    Settings root = new Settings(json, "", origins);
    this.origins = Map.copyOf(origins);
    this.secretFiles = Map.copyOf(secretFiles);
    this.emptyVariables = List.copyOf(emptyVariables);
    this.source = json.copy();
    this.http = new HttpOptions(root.section("http"));
    this.redis = new RedisConfig(root.section("redis"));
    this.linktree = new LinktreeOptions(root.section("linktree"));
    this.cache = new CacheOptions(root.section("cache"));
    this.sandbox = new SandboxOptions(root.section("sandbox"));
    this.webhooks = new WebhookOptions(root.section("webhooks"));
    this.admin = new AdminOptions(root.section("admin"));
    this.klaviyo = new KlaviyoOptions(root.section("klaviyo"));
    this.analytics = new AnalyticsOptions(root.section("analytics"));
    this.tls = new TlsOptions(root.section("tls"));
    this.accessLog = new AccessLogOptions(root.section("accessLog"));
    this.jobs = new JobsOptions(root.section("jobs"));
    this.destinations = new DestinationOptions(root.section("destinations"), object(json, "destinations"));
    this.linkme = new LinkmeAttributionOptions(root.section("linkme"));
    root.section("sandbox").opaque("klaviyo");
    root.rejectUnknown();
    Settings lt = root.section("linktree");
    if (linktree.apiBase() != null && linktree.token() == null) {
      throw lt.invalid("token", "is required when " + lt.name("apiBase") + " is set (set LINKTREE_API_TOKEN or LINKTREE_API_TOKEN_FILE)");
    }
    if (klaviyo.enabled() && klaviyo.privateKey() == null && linktree.apiBase() != null) {
      // Without the sandbox (which plays Klaviyo when no API base is set) an enabled sink has nowhere to send: it used
      // to start with an ERROR line and stay off, what the operator asked for silently not done.
      Settings k = root.section("klaviyo");
      throw k.invalid("privateKey", "is required when " + k.name("enabled")
        + " is true (set KLAVIYO_PRIVATE_KEY or KLAVIYO_PRIVATE_KEY_FILE, or turn the sink off)");
    }
    double perMinute = linktree.rateLimitPerMin() * 60_000.0 / linktree.ratePeriodMs();
    if (perMinute > PROVIDER_LIMIT_PER_MIN && !loopback(linktree.apiBase())) {
      throw lt.invalid("rateLimitPerMin", "allows " + Math.round(perMinute) + " calls/min, above Linktree's limit of "
        + PROVIDER_LIMIT_PER_MIN + "/min per key (keep it at 90 or below for headroom)");
    }
    this.warnings = List.copyOf(warnings(root, perMinute));
  }

  /** A section's JSON (its type already checked by {@link Settings#section}), or {@code null}. */
  private static JsonObject object(JsonObject json, String key) {
    Object v = json.getValue(key);
    return v instanceof JsonObject o ? o : null;
  }

  private List<String> warnings(Settings root, double perMinute) {
    List<String> w = new ArrayList<>();
    for (String name : emptyVariables) {
      w.add(name + " is set but empty: ignored as if unset (the configuration file's value or the default applies)");
    }
    Settings lt = root.section("linktree");
    Settings http = root.section("http");
    if (perMinute > 90 && perMinute <= PROVIDER_LIMIT_PER_MIN) {
      w.add(lt.name("rateLimitPerMin") + ": " + Math.round(perMinute) + "/min leaves less than 10% headroom under Linktree's "
        + PROVIDER_LIMIT_PER_MIN + "/min (other clients of the same key, clock skew)");
    }
    if (linktree.apiBase() != null && linktree.apiBase().startsWith("http://") && !loopback(linktree.apiBase())) {
      w.add(lt.name("apiBase") + ": plain http to a remote upstream sends the bearer token unencrypted");
    }
    // A bare IPv6 literal (::1) is a host only inside brackets in a URL.
    String host = http().host().indexOf(':') >= 0 && !http().host().startsWith("[") ? "[" + http().host() + "]" : http().host();
    if (!loopback("http://" + host) && tls.enabled() == false) {
      w.add(http.name("host") + ": listening on " + http().host() + " without TLS (set BIOGATE_TLS_CERT_FILE/BIOGATE_TLS_KEY_FILE, or terminate TLS in front)");
    }
    if (!http().trustedProxies().isEmpty() && http().exemptLoopback()) {
      w.add("http.inbound.exemptLoopback: true while trusted proxies are set; a proxy on loopback would exempt every client from the edge limit");
    }
    if (http().inboundRatePerSec() == 0) {
      w.add("http.inbound.ratePerSec: 0 turns the per-client edge limit off");
    }
    if (cache.staleIfErrorMs() == 0) {
      w.add("cache.staleIfErrorMs: 0 means an upstream outage empties the cache: clients get 503 instead of the last good copy");
    }
    if (http().cursorSecret() == null && !redis.embedded()) {
      // A configured Redis is normally shared by several instances behind one address: say what breaks.
      w.add(http.name("cursorSecret") + " is not set with a shared Redis: each instance signs links cursors with a random "
        + "key of its own, so a next_cursor issued by one instance is rejected (400 invalid_cursor) by the others; "
        + "set BIOGATE_CURSOR_SECRET, the same on every instance");
    } else if (http().cursorSecret() == null) {
      w.add(http.name("cursorSecret") + " is not set: links cursors are signed with a per-process key and only valid on the "
        + "instance that issued them (set BIOGATE_CURSOR_SECRET when running several instances)");
    }
    return w;
  }

  /** True for an URL whose host is a loopback address ({@code null}, the in-process sandbox, counts as not loopback). */
  public static boolean loopback(String url) {
    if (url == null) {
      return false;
    }
    try {
      String host = URI.create(url).getHost();
      if (host == null) {
        return false;
      }
      if (host.equals("localhost")) {
        return true;
      }
      if (!host.matches("[0-9.]+|\\[[0-9a-fA-F:]+\\]")) {
        return false;
      }
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (Exception e) {
      return false;
    }
  }

  private BiogateConfig(BiogateConfig base, RedisConfig redis, LinktreeOptions linktree) {
    this(base, redis, linktree, base.klaviyo);
  }

  private BiogateConfig(BiogateConfig base, RedisConfig redis, LinktreeOptions linktree, KlaviyoOptions klaviyo) {
    this.source = base.source;
    this.http = base.http;
    this.redis = redis;
    this.linktree = linktree;
    this.cache = base.cache;
    this.sandbox = base.sandbox;
    this.webhooks = base.webhooks;
    this.admin = base.admin;
    this.klaviyo = klaviyo;
    this.analytics = base.analytics;
    this.tls = base.tls;
    this.accessLog = base.accessLog;
    this.jobs = base.jobs;
    this.destinations = base.destinations;
    this.linkme = base.linkme;
    this.origins = base.origins;
    this.secretFiles = base.secretFiles;
    this.emptyVariables = base.emptyVariables;
    this.warnings = base.warnings;
  }

  public HttpOptions http() { return http; }
  public RedisConfig redis() { return redis; }
  public LinktreeOptions linktree() { return linktree; }
  public CacheOptions cache() { return cache; }
  public SandboxOptions sandbox() { return sandbox; }
  public WebhookOptions webhooks() { return webhooks; }
  public AdminOptions admin() { return admin; }
  public KlaviyoOptions klaviyo() { return klaviyo; }
  /** Outbound destinations (section {@code destinations}). */
  public DestinationOptions destinations() { return destinations; }
  /** LinkMe attribution (section {@code linkme}). */
  public LinkmeAttributionOptions linkme() { return linkme; }
  public AnalyticsOptions analytics() { return analytics; }
  public TlsOptions tls() { return tls; }
  public AccessLogOptions accessLog() { return accessLog; }
  /** The link batch jobs' runner. */
  public JobsOptions jobs() { return jobs; }

  /** Risky but valid settings, one line each naming the setting; logged at start-up. */
  public List<String> warnings() { return warnings; }

  /** Secret variables given as {@code NAME_FILE}: variable name → file path (watched for rotation). */
  public Map<String, String> secretFiles() { return secretFiles; }

  /**
   * The operator-facing name of a JSON path: the environment variable it came from with the path, the variable that
   * would set it with the path when it is unset, else the path itself.
   */
  public String settingName(String path) {
    String env = origins.get(path);
    if (env != null) {
      return env + " (" + path + ")";
    }
    for (Map.Entry<String, String> e : ConfigLoader.ENV.entrySet()) {
      if (e.getValue().equals(path)) {
        return e.getKey() + " (" + path + ")";
      }
    }
    return path;
  }

  /** This configuration with the secret variables replaced (rotation); validated like the original. */
  public BiogateConfig withSecrets(Map<String, String> values) {
    JsonObject json = source.copy();
    values.forEach((name, value) -> ConfigLoader.put(json, ConfigLoader.ENV.get(name), value));
    return new BiogateConfig(json, origins, secretFiles, emptyVariables);
  }

  /** The merged source JSON, for sections read by later stages. Contains secrets: never log it. */
  public JsonObject source() { return source; }

  public BiogateConfig withRedis(RedisConfig r) {
    return new BiogateConfig(this, r, linktree);
  }

  public BiogateConfig withKlaviyo(KlaviyoOptions k) {
    return new BiogateConfig(this, redis, linktree, k);
  }

  public BiogateConfig withLinktree(LinktreeOptions l) {
    return new BiogateConfig(this, redis, l);
  }

  /** A dump safe to log: secrets are left out. */
  public JsonObject toJson() {
    return new JsonObject().put("http", http.toJson()).put("redis", redis.toJson())
      .put("linktree", linktree.toJson()).put("cache", cache.toJson()).put("sandbox", sandbox.toJson())
      .put("webhooks", webhooks.toJson()).put("admin", admin.toJson())
      .put("klaviyo", klaviyo.toJson()).put("analytics", analytics.toJson()).put("tls", tls.toJson())
      .put("accessLog", accessLog.toJson()).put("jobs", jobs.toJson());
  }
}
