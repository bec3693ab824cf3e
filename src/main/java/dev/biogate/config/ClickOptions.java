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
 *
 * @param botUserAgents lower-cased substrings of a User-Agent that mark a bot
 * @param fingerprintSecret the secret client fingerprints are keyed from, or {@code null}: a random one per process
 */
public record ClickOptions(long windowS, double ratePerSec, int burst, int maxTracked, List<String> botUserAgents,
                           Secret fingerprintSecret) {

  public static final long DEFAULT_WINDOW_S = 30;
  public static final double DEFAULT_RATE_PER_SEC = 5;
  public static final int DEFAULT_BURST = 20;
  public static final int DEFAULT_MAX_TRACKED = 200_000;
  public static final List<String> DEFAULT_BOT_USER_AGENTS = List.of("bot", "crawler", "spider", "slurp", "facebookexternalhit",
    "embedly", "preview", "headlesschrome", "phantomjs", "python-requests", "curl/", "wget/", "go-http-client", "okhttp", "scrapy",
    "httpclient", "monitor", "pingdom", "uptime");

  public ClickOptions(JsonObject json) {
    this(Settings.of(json));
  }

  ClickOptions(Settings s) {
    this(s.longIn("windowS", DEFAULT_WINDOW_S, 1, 86_400),
      s.doubleIn("ratePerSec", DEFAULT_RATE_PER_SEC, 0.001, 100_000),
      s.intIn("burst", DEFAULT_BURST, 1, 1_000_000),
      s.intIn("maxTracked", DEFAULT_MAX_TRACKED, 1_000, 100_000_000),
      (s.has("botUserAgents") ? s.list("botUserAgents") : DEFAULT_BOT_USER_AGENTS).stream()
        .map(b -> b.toLowerCase(Locale.ROOT)).toList(),
      Secret.of(s.string("fingerprintSecret", null)));
    if (fingerprintSecret != null && fingerprintSecret.reveal().length() < 16) {
      throw s.invalid("fingerprintSecret", "must be at least 16 characters");
    }
  }

  public JsonObject toJson() {
    return new JsonObject().put("windowS", windowS).put("ratePerSec", ratePerSec).put("burst", burst).put("maxTracked", maxTracked)
      .put("botUserAgents", new JsonArray(botUserAgents)).put("fingerprintSecret", fingerprintSecret == null ? null : "****");
  }
}
