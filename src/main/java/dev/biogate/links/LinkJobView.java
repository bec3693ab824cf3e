package dev.biogate.links;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * The JSON of {@code GET /admin/jobs/{id}}: state, counts, the upstream calls the job completed per minute, and one
 * entry per operation with its status ({@code pending}, {@code in_flight}, {@code applied}, {@code failed}) and result.
 */
final class LinkJobView {

  private LinkJobView() {
  }

  /** {@code null} when the job hash is empty (unknown or expired job). */
  static JsonObject of(Map<String, String> job, Map<Integer, JsonObject> ops, Map<Integer, JsonObject> results,
                       Map<String, String> inflight) {
    if (job.isEmpty()) {
      return null;
    }
    int total = Integer.parseInt(job.getOrDefault("total", "0"));
    JsonArray operations = new JsonArray();
    Map<String, Integer> perMinute = new TreeMap<>();
    ops.forEach((i, op) -> {
      JsonObject entry = new JsonObject().put("index", i).put("operation", op);
      JsonObject result = results.get(i);
      if (result != null) {
        entry.mergeIn(result);
        Long at = result.getLong("at");
        if (at != null) {
          perMinute.merge(Instant.ofEpochMilli(at - at % 60_000).toString(), 1, Integer::sum);
        }
      } else {
        entry.put("status", inflight.containsKey(Integer.toString(i)) ? "in_flight" : "pending");
      }
      operations.add(entry);
    });
    JsonObject minutes = new JsonObject();
    perMinute.forEach(minutes::put);
    int applied = Integer.parseInt(job.getOrDefault("applied", "0"));
    int failed = Integer.parseInt(job.getOrDefault("failed", "0"));
    return new JsonObject().put("id", job.get("id")).put("username", job.get("username")).put("state", job.get("state"))
      .put("total", total).put("applied", applied).put("failed", failed).put("pending", total - applied - failed)
      .put("leases", Integer.parseInt(job.getOrDefault("leases", "0")))
      .put("created", time(job.get("created"))).put("started", time(job.get("started"))).put("finished", time(job.get("finished")))
      .put("completed_per_minute", minutes).put("operations", operations);
  }

  private static String time(String ms) {
    return ms == null ? null : Instant.ofEpochMilli(Long.parseLong(ms)).toString();
  }
}
