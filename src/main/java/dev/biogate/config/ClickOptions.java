package dev.biogate.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Locale;

/**
 * What counts as a click ({@code analytics.clicks}): one per client per link per {@code windowS}; a client is a
 * salted HMAC of its IP and User-Agent (the key derived daily from {@code fingerprintSecret}, or from a random secret
 * per process when none is set); requests whose User-Agent contains one of {@code botUserAgents} (case-insensitive)
 * are redirected but not counted; each client may follow {@code ratePerSec} redirects (burst {@code burst}); at most
 * {@code maxTracked} (client, link) pairs are remembered per instance.
 */
public final class ClickOptions {

  public static final long DEFAULT_WINDOW_S = 30;
  public static final double DEFAULT_RATE_PER_SEC = 5;
  public static final int DEFAULT_BURST = 20;
  public static final int DEFAULT_MAX_TRACKED = 200_000;
  public static final List<String> DEFAULT_BOT_USER_AGENTS = List.of("bot", "crawler", "spider", "slurp", "facebookexternalhit",
    "embedly", "preview", "headlesschrome", "phantomjs", "python-requests", "curl/", "wget/", "go-http-client", "okhttp", "scrapy",
    "httpclient", "monitor", "pingdom", "uptime");

  private final long windowS;
  private final double ratePerSec;
  private final int burst;
  private final int maxTracked;
  private final List<String> botUserAgents;
  private final Secret fingerprintSecret;

  public ClickOptions(JsonObject json) {
    this(Settings.of(json));
  }

  ClickOptions(Settings s) {
    this.windowS = s.longIn("windowS", DEFAULT_WINDOW_S, 1, 86_400);
    this.ratePerSec = s.doubleIn("ratePerSec", DEFAULT_RATE_PER_SEC, 0.001, 100_000);
    this.burst = s.intIn("burst", DEFAULT_BURST, 1, 1_000_000);
    this.maxTracked = s.intIn("maxTracked", DEFAULT_MAX_TRACKED, 1_000, 100_000_000);
    List<String> bots = s.has("botUserAgents") ? s.list("botUserAgents") : DEFAULT_BOT_USER_AGENTS;
    this.botUserAgents = bots.stream().map(b -> b.toLowerCase(Locale.ROOT)).toList();
    String secret = s.string("fingerprintSecret", null);
    if (secret != null && secret.length() < 16) {
      throw s.invalid("fingerprintSecret", "must be at least 16 characters");
    }
    this.fingerprintSecret = secret == null ? null : Secret.of(secret);
  }

  public long windowS() { return windowS; }
  public double ratePerSec() { return ratePerSec; }
  public int burst() { return burst; }
  public int maxTracked() { return maxTracked; }
  /** Lower-cased substrings of a User-Agent that mark a bot. */
  public List<String> botUserAgents() { return botUserAgents; }
  /** The secret client fingerprints are keyed from, or {@code null}: a random one per process. */
  public Secret fingerprintSecret() { return fingerprintSecret; }

  public JsonObject toJson() {
    return new JsonObject().put("windowS", windowS).put("ratePerSec", ratePerSec).put("burst", burst).put("maxTracked", maxTracked)
      .put("botUserAgents", new JsonArray(botUserAgents)).put("fingerprintSecret", fingerprintSecret == null ? null : "****");
  }
}
