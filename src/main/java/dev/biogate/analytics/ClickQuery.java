package dev.biogate.analytics;

import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Response;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads one creator's counters for a range with {@code redis/click_read.lua}: at most {@link #KEYS_PER_CALL} bucket
 * hashes per call (all keys share the creator's hash tag, so a call runs on one Cluster node), one call in flight per
 * query. A query thus holds one place in the shared connection's queue ({@code redis.maxWaiting}) whatever its range:
 * one {@code HGETALL} per bucket, pipelined, held 1,440 places for a day by minute, and three overlapping queries
 * were refused. Answers
 * {@code {"username","granularity","from","to","total","links":{id:n},"series":[{"t","count"}]}}, every bucket of the
 * range present in the series, zero when nobody clicked.
 */
public final class ClickQuery {

  /**
   * Buckets one script call reads: a day by minute, the default range cap, is six calls one after another. A script
   * holds the server for its whole run, and a creator with many links clicked every minute has large buckets: a call
   * is kept short so other clients' commands go between them.
   */
  static final int KEYS_PER_CALL = 240;

  private static final LuaScript READ = LuaScript.load("click_read");

  private final Redis redis;

  public ClickQuery(Redis redis) {
    this.redis = redis;
  }

  public Future<JsonObject> clicks(String username, QueryRange range) {
    List<Response> replies = new ArrayList<>(range.buckets());
    return read(username, range, 0, replies).map(v -> answer(username, range, replies));
  }

  /** Reads the buckets from {@code first} on, a call at a time, adding one reply per bucket to {@code replies}. */
  private Future<Void> read(String username, QueryRange range, int first, List<Response> replies) {
    if (first >= range.buckets()) {
      return Future.succeededFuture();
    }
    Granularity g = range.granularity();
    int end = Math.min(range.buckets(), first + KEYS_PER_CALL);
    List<String> keys = new ArrayList<>(end - first);
    for (int i = first; i < end; i++) {
      keys.add(RedisKeys.clickBucket(username, g.unit(), g.index(range.bucket(i))));
    }
    return READ.run(redis, keys, List.of()).compose(reply -> {
      for (Response bucket : reply) {
        replies.add(bucket);
      }
      return read(username, range, end, replies);
    });
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
