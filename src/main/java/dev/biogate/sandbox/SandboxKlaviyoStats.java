package dev.biogate.sandbox;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What reached the simulated Klaviyo API: every {@code POST /api/events/} ({@code received}), those answered 202
 * ({@code accepted}), how many distinct {@code unique_id}s were accepted and how many accepted events repeated one
 * ({@code duplicates}, which Klaviyo would drop), answers by status, {@code GET /api/accounts/} calls, the most events
 * accepted in any rolling {@code windowMs}, and the last {@code recent} requests (time, status, unique_id, the headers
 * that matter, and the body of accepted ones). Thread-safe.
 */
public final class SandboxKlaviyoStats {

  private static final int MAX_TIMES = 100_000;

  private final int recentLimit;
  private final long windowMs;
  private long received;
  private long accepted;
  private long duplicates;
  private long accounts;
  private final Set<String> uniqueIds = new HashSet<>();
  private final Map<Integer, Long> byStatus = new TreeMap<>();
  private final ArrayDeque<Long> acceptedAt = new ArrayDeque<>();
  private final ArrayDeque<JsonObject> recent = new ArrayDeque<>();

  public SandboxKlaviyoStats(int recentLimit, long windowMs) {
    this.recentLimit = recentLimit;
    this.windowMs = windowMs;
  }

  /** Counts one events request and its answer; {@code body} only for accepted events. */
  public synchronized void recordEvent(int status, String uniqueId, JsonObject headers, JsonObject body) {
    long now = System.currentTimeMillis();
    received++;
    byStatus.merge(status, 1L, Long::sum);
    if (status == 202) {
      accepted++;
      if (uniqueId != null && !uniqueIds.add(uniqueId)) {
        duplicates++;
      }
      acceptedAt.addLast(now);
      if (acceptedAt.size() > MAX_TIMES) {
        acceptedAt.pollFirst();
      }
    }
    JsonObject entry = new JsonObject().put("at_ms", now).put("status", status).put("unique_id", uniqueId).put("headers", headers);
    if (body != null) {
      entry.put("body", body);
    }
    recent.addLast(entry);
    while (recent.size() > recentLimit) {
      recent.pollFirst();
    }
  }

  public synchronized void recordAccounts() {
    accounts++;
  }

  /** The most events accepted in any rolling window of {@code windowMs}. */
  public synchronized long maxInWindow() {
    Long[] times = acceptedAt.toArray(new Long[0]);
    long max = 0;
    int start = 0;
    for (int end = 0; end < times.length; end++) {
      while (times[end] - times[start] >= windowMs) {
        start++;
      }
      max = Math.max(max, end - start + 1);
    }
    return max;
  }

  public synchronized JsonObject toJson() {
    JsonObject statuses = new JsonObject();
    byStatus.forEach((s, n) -> statuses.put(Integer.toString(s), n));
    JsonArray last = new JsonArray();
    recent.forEach(e -> last.add(e.copy()));
    return new JsonObject().put("received", received).put("accepted", accepted).put("unique", uniqueIds.size())
      .put("duplicates", duplicates).put("by_status", statuses).put("accounts_requests", accounts)
      .put("max_in_window", maxInWindow()).put("window_ms", windowMs).put("recent", last);
  }

  public synchronized void reset() {
    received = 0;
    accepted = 0;
    duplicates = 0;
    accounts = 0;
    uniqueIds.clear();
    byStatus.clear();
    acceptedAt.clear();
    recent.clear();
  }
}
