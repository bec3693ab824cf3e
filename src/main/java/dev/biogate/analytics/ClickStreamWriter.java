package dev.biogate.analytics;

import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.VertxException;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Writes click events to the clicks stream in one atomic batch ({@code redis/click_append.lua}), refused as a whole
 * with {@link Full} when the stream's backlog would pass its ceiling, and failing within {@code timeoutMs} when
 * Redis does not answer. Nothing is ever trimmed on write: entries leave the stream once every consumer group has
 * finished them. A timed-out batch may still land later; harmless, every consumer is idempotent per event id.
 */
public final class ClickStreamWriter {

  /** The clicks stream holds {@code ceiling} entries: the batch was not written. Stackless, expected. */
  public static final class Full extends VertxException {
    Full() {
      super("the clicks stream is at its backlog ceiling", true);
    }
  }

  private static final Full FULL = new Full();
  private static final LuaScript APPEND = LuaScript.load("click_append");

  private final Redis redis;
  private final long ceiling;
  private final long timeoutMs;

  public ClickStreamWriter(Redis redis, long ceiling, long timeoutMs) {
    this.redis = redis;
    this.ceiling = ceiling;
    this.timeoutMs = timeoutMs;
  }

  public Future<Void> write(List<ClickEvent> events) {
    List<String> args = new ArrayList<>(1 + events.size() * 11);
    args.add(Long.toString(ceiling));
    for (ClickEvent e : events) {
      List<String> fields = e.fields();
      args.add(Integer.toString(fields.size()));
      args.addAll(fields);
    }
    return append(args);
  }

  /** One event with extra fields for the sinks (e.g. {@code profile}: who to attribute an unowned click to). */
  public Future<Void> write(ClickEvent event, List<String> extra) {
    List<String> fields = new ArrayList<>(event.fields());
    fields.addAll(extra);
    List<String> args = new ArrayList<>(2 + fields.size());
    args.add(Long.toString(ceiling));
    args.add(Integer.toString(fields.size()));
    args.addAll(fields);
    return append(args);
  }

  private Future<Void> append(List<String> args) {
    return APPEND.run(redis, List.of(RedisKeys.CLICKS_STREAM), args).timeout(timeoutMs, TimeUnit.MILLISECONDS)
      .compose(r -> r.toLong() < 0 ? Future.failedFuture(FULL) : Future.succeededFuture());
  }

  /** Whether Redis answers again. */
  Future<Void> ping() {
    return redis.send(Request.cmd(Command.PING)).timeout(timeoutMs, TimeUnit.MILLISECONDS).mapEmpty();
  }
}
