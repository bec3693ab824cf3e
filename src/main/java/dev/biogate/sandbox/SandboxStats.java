package dev.biogate.sandbox;

import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * What reached the simulated upstream: every API request (faulted, rejected and unauthorised ones
 * included), by path (without query), by response status and by epoch second for the last
 * {@value #RETAINED_SECONDS} seconds, plus how many were answered {@code 429}. Sandbox control
 * endpoints are never counted. Thread-safe.
 */
public final class SandboxStats {

  /** Per-second counts are kept this long, so a load test can check every rolling minute of a run. */
  public static final int RETAINED_SECONDS = 15 * 60;

  private final LongSupplier epochSecond;
  private long requests;
  private long rateLimited;
  private final Map<String, Long> byPath = new TreeMap<>();
  private final Map<Integer, Long> byStatus = new TreeMap<>();
  private final TreeMap<Long, Long> perSecond = new TreeMap<>();

  public SandboxStats() {
    this(() -> System.currentTimeMillis() / 1000);
  }

  SandboxStats(LongSupplier epochSecond) {
    this.epochSecond = epochSecond;
  }

  private String lastRequestId;
  private String lastTraceparent;

  /** Remembers the trace headers of the latest request (what a test checks the gateway propagated). */
  public synchronized void recordTrace(String requestId, String traceparent) {
    lastRequestId = requestId;
    lastTraceparent = traceparent;
  }

  /** Counts a request as it arrives. */
  public synchronized void recordRequest(String path) {
    long now = epochSecond.getAsLong();
    requests++;
    byPath.merge(path, 1L, Long::sum);
    perSecond.merge(now, 1L, Long::sum);
    perSecond.headMap(now - RETAINED_SECONDS, true).clear();
  }

  /** Counts the status a request was answered with. */
  public synchronized void recordStatus(int status) {
    byStatus.merge(status, 1L, Long::sum);
    if (status == 429) {
      rateLimited++;
    }
  }

  public synchronized long requests() {
    return requests;
  }

  public synchronized long rateLimited() {
    return rateLimited;
  }

  public synchronized long requests(String path) {
    return byPath.getOrDefault(path, 0L);
  }

  /** The most requests that arrived in any {@code seconds}-long run of whole seconds still retained. */
  public synchronized long maxRequestsInWindow(int seconds) {
    long max = 0;
    for (long start : perSecond.keySet()) {
      long sum = 0;
      for (long n : perSecond.subMap(start, true, start + seconds, false).values()) {
        sum += n;
      }
      max = Math.max(max, sum);
    }
    return max;
  }

  /** {@code {"requests","by_path","rate_limited","by_status","per_second","last_request_id","last_traceparent"}}, a copy. */
  public synchronized JsonObject toJson() {
    JsonObject paths = new JsonObject();
    byPath.forEach(paths::put);
    JsonObject statuses = new JsonObject();
    byStatus.forEach((status, n) -> statuses.put(Integer.toString(status), n));
    JsonObject seconds = new JsonObject();
    perSecond.forEach((second, n) -> seconds.put(Long.toString(second), n));
    return new JsonObject().put("requests", requests).put("by_path", paths).put("rate_limited", rateLimited)
      .put("by_status", statuses).put("per_second", seconds)
      .put("last_request_id", lastRequestId).put("last_traceparent", lastTraceparent);
  }

  public synchronized void reset() {
    lastRequestId = null;
    lastTraceparent = null;
    requests = 0;
    rateLimited = 0;
    byPath.clear();
    byStatus.clear();
    perSecond.clear();
  }
}
