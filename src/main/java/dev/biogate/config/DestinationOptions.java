package dev.biogate.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Outbound destinations (section {@code destinations}): where verified provider events are forwarded, signed per
 * Standard Webhooks. {@code endpoints} lists them, each {@code {"name","url","events":["linkme.*",...],
 * "secret": "a,b" | "secretFile": "/run/secrets/x", "ratePerSec", "enabled"}}; a comma-separated secret is a
 * rotation (every secret signs). Retry, breaker and timeout settings apply to every destination.
 *
 * @param maxAttempts failed attempts before a delivery is dead-lettered
 * @param timeoutMs one attempt's HTTP timeout
 * @param streamMaxLen the outbound stream's backlog ceiling: beyond it, events wait on the events stream (KEEP) instead;
 *                     also the ceiling of the outbound dead letters, which are never trimmed: at it, a delivery due
 *                     for them stays on the outbound stream and is tried again later
 */
public record DestinationOptions(int maxAttempts, long retryBaseMs, long retryMaxMs, long timeoutMs, int breakerMaxFailures,
                                 long breakerResetMs, long streamMaxLen, List<Endpoint> endpoints) {

  public static final int DEFAULT_MAX_ATTEMPTS = 8;
  public static final long DEFAULT_RETRY_BASE_MS = 1_000;
  public static final long DEFAULT_RETRY_MAX_MS = 600_000;
  public static final long DEFAULT_TIMEOUT_MS = 10_000;
  public static final int DEFAULT_BREAKER_MAX_FAILURES = 5;
  public static final long DEFAULT_BREAKER_RESET_MS = 30_000;
  public static final long DEFAULT_STREAM_MAX_LEN = 1_000_000;
  public static final double DEFAULT_RATE_PER_SEC = 50;

  /** One configured destination. {@code secrets}: current first; empty = unsigned. */
  public record Endpoint(String name, String url, List<String> events, List<Secret> secrets, double ratePerSec, boolean enabled) {
    public JsonObject toJson() {
      return new JsonObject().put("name", name).put("url", url).put("events", new JsonArray(events))
        .put("secrets", secrets.size()).put("ratePerSec", ratePerSec).put("enabled", enabled);
    }
  }

  /** {@code json}: the {@code destinations} section. */
  public DestinationOptions(JsonObject json) {
    this(new Settings(json, "destinations", Map.of()), json);
  }

  /** {@code s}: the validated config's {@code destinations} section (its reads mark the keys known); {@code json}: its JSON. */
  DestinationOptions(Settings s, JsonObject json) {
    this(s.intIn("maxAttempts", DEFAULT_MAX_ATTEMPTS, 1, 100),
      retryBaseMs(s),
      // retryMaxMs may not be below retryBaseMs (read again: the same value, already validated).
      s.longIn("retryMaxMs", DEFAULT_RETRY_MAX_MS, retryBaseMs(s), 86_400_000),
      s.longIn("timeoutMs", DEFAULT_TIMEOUT_MS, 10, 120_000),
      s.intIn("breakerMaxFailures", DEFAULT_BREAKER_MAX_FAILURES, 1, 1_000),
      s.longIn("breakerResetMs", DEFAULT_BREAKER_RESET_MS, 10, 3_600_000),
      s.longIn("streamMaxLen", DEFAULT_STREAM_MAX_LEN, 1, 1_000_000_000L),
      endpoints(s, json == null ? new JsonObject() : json));
  }

  private static long retryBaseMs(Settings s) {
    return s.longIn("retryBaseMs", DEFAULT_RETRY_BASE_MS, 1, 3_600_000);
  }

  private static List<Endpoint> endpoints(Settings s, JsonObject section) {
    List<Endpoint> list = new ArrayList<>();
    // Read through the settings too, so the validated config counts the key as known (its entries are checked here).
    Object raw = s.has("endpoints") ? section.getValue("endpoints") : null;
    if (raw != null && !(raw instanceof JsonArray)) {
      throw s.invalid("endpoints", "must be a JSON array");
    }
    if (raw != null) {
      JsonArray arr = (JsonArray) raw;
      for (int i = 0; i < arr.size(); i++) {
        if (!(arr.getValue(i) instanceof JsonObject)) {
          throw s.invalid("endpoints[" + i + "]", "must be a JSON object");
        }
        list.add(endpoint(new Settings(arr.getJsonObject(i), "destinations.endpoints[" + i + "]", Map.of())));
      }
    }
    Set<String> names = new HashSet<>();
    for (Endpoint e : list) {
      if (!names.add(e.name())) {
        throw s.invalid("endpoints", "destination name '" + e.name() + "' is used twice");
      }
    }
    return List.copyOf(list);
  }

  private static Endpoint endpoint(Settings e) {
    String name = e.string("name", null);
    if (name == null || !name.matches("[A-Za-z0-9._-]{1,64}")) {
      throw e.invalid("name", "must be 1-64 of [A-Za-z0-9._-]");
    }
    String url = e.httpUrl("url");
    if (url == null) {
      throw e.invalid("url", "is required");
    }
    List<String> events = e.list("events");
    if (events.isEmpty()) {
      throw e.invalid("events", "must list at least one provider.type filter (globs with * allowed)");
    }
    for (String f : events) {
      if (f.length() > 200) {
        throw e.invalid("events", "filters are at most 200 characters");
      }
    }
    List<Secret> secrets = new ArrayList<>();
    String secret = e.string("secret", null);
    String file = e.string("secretFile", null);
    if (secret != null && file != null) {
      throw e.invalid("secretFile", "give either secret or secretFile, not both");
    }
    if (file != null) {
      try {
        secret = Files.readString(Path.of(file), StandardCharsets.UTF_8).trim();
      } catch (IOException | RuntimeException ex) {
        throw e.invalid("secretFile", "cannot be read");
      }
    }
    if (secret != null) {
      for (String part : secret.split(",")) {
        if (!part.isBlank()) {
          secrets.add(Secret.of(part.trim()));
        }
      }
    }
    double rate = e.doubleIn("ratePerSec", DEFAULT_RATE_PER_SEC, 0.01, 100_000);
    return new Endpoint(name, url, List.copyOf(events), List.copyOf(secrets), rate, e.bool("enabled", true));
  }

  /** Without secrets. */
  public JsonObject toJson() {
    JsonArray list = new JsonArray();
    endpoints.forEach(e -> list.add(e.toJson()));
    return new JsonObject().put("endpoints", list).put("maxAttempts", maxAttempts).put("retryBaseMs", retryBaseMs)
      .put("retryMaxMs", retryMaxMs).put("timeoutMs", timeoutMs).put("breakerMaxFailures", breakerMaxFailures)
      .put("breakerResetMs", breakerResetMs).put("streamMaxLen", streamMaxLen);
  }
}
