package dev.biogate.analytics;

import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads one creator's counters for a range: one {@code HGETALL} per bucket, pipelined in a single batch (all keys
 * share the creator's hash tag, so the batch stays on one Cluster node). Answers
 * {@code {"username","granularity","from","to","total","links":{id:n},"series":[{"t","count"}]}}, every bucket of the
 * range present in the series, zero when nobody clicked.
 */
public final class ClickQuery {

  private final Redis redis;

  public ClickQuery(Redis redis) {
    this.redis = redis;
  }

  public Future<JsonObject> clicks(String username, QueryRange range) {
    Granularity g = range.granularity();
    List<Request> reads = new ArrayList<>(range.buckets());
    for (int i = 0; i < range.buckets(); i++) {
      reads.add(Request.cmd(Command.HGETALL).arg(RedisKeys.clickBucket(username, g.unit(), g.index(range.bucket(i)))));
    }
    return redis.batch(reads).map(replies -> answer(username, range, replies));
  }

  private static JsonObject answer(String username, QueryRange range, List<Response> replies) {
    long total = 0;
    Map<String, Long> links = new TreeMap<>();
    JsonArray series = new JsonArray();
    for (int i = 0; i < range.buckets(); i++) {
      long count = 0;
      for (Map.Entry<String, String> field : dev.biogate.redis.StreamReplies.fields(replies.get(i)).entrySet()) {
        long n = parse(field.getValue());
        count += n;
        links.merge(field.getKey(), n, Long::sum);
      }
      total += count;
      series.add(new JsonObject().put("t", Instant.ofEpochMilli(range.bucket(i)).toString()).put("count", count));
    }
    JsonObject byLink = new JsonObject();
    links.forEach(byLink::put);
    long end = range.bucket(range.buckets() - 1) + range.granularity().millis();
    return new JsonObject().put("username", username)
      .put("granularity", range.granularity().name().toLowerCase())
      .put("from", Instant.ofEpochMilli(range.firstBucket()).toString())
      .put("to", Instant.ofEpochMilli(end).toString())
      .put("total", total).put("links", byLink).put("series", series);
  }

  private static long parse(String s) {
    try {
      return s == null ? 0 : Long.parseLong(s);
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
