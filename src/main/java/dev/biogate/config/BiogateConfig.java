package dev.biogate.config;

import io.vertx.core.json.JsonObject;

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
  private final AnalyticsOptions analytics;

  public BiogateConfig(JsonObject json) {
    this(json, Map.of());
  }

  BiogateConfig(JsonObject json, Map<String, String> origins) {
    Settings root = new Settings(json, "", origins);
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
  }

  public HttpOptions http() { return http; }
  public RedisConfig redis() { return redis; }
  public LinktreeOptions linktree() { return linktree; }
  public CacheOptions cache() { return cache; }
  public SandboxOptions sandbox() { return sandbox; }
  public WebhookOptions webhooks() { return webhooks; }
  public AdminOptions admin() { return admin; }
  public KlaviyoOptions klaviyo() { return klaviyo; }
  public AnalyticsOptions analytics() { return analytics; }

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
      .put("klaviyo", klaviyo.toJson()).put("analytics", analytics.toJson());
  }
}
