package dev.biogate.analytics;

import dev.biogate.http.ApiException;
import dev.biogate.http.ErrorResponses;
import dev.biogate.http.HttpTokens;
import dev.biogate.http.Usernames;
import dev.biogate.redis.RedisErrors;
import dev.biogate.redis.ThrottledLog;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * {@code GET /v1/analytics/{username}/clicks?from&to&granularity}: one creator's click counts, for that creator's own
 * API key only. No key or an unknown/revoked key → {@code 401}; another creator's key → {@code 403}; bad parameters →
 * {@code 400} (checked after the key, so they reveal nothing to strangers). The whole query has a time budget
 * ({@code queryTimeoutMs}, 30 s): past it, or with Redis unavailable, the answer is a {@code 503}. Such refusals are
 * counted ({@link #refusedTimeout}, {@link #refusedUnavailable}) and logged at most once per
 * {@link ThrottledLog#INTERVAL_MS} with their cause: they used to leave no trace but the status count. At most
 * {@code maxQueries} queries run at once on this instance (every event loop together), at most an eighth of them for
 * one creator ({@link QuerySlots}); more are answered
 * {@code 503 busy} at once ({@link #refusedBusy}), so analytics can never fill the Redis connections' queues that reads,
 * webhooks and the upstream budget share.
 */
public final class AnalyticsHandler implements Handler<RoutingContext> {

  private static final Logger LOG = LoggerFactory.getLogger(AnalyticsHandler.class);
  private static final ApiException NO_KEY = new ApiException(401, "unauthorized", "an analytics API key is required (Authorization: Bearer <key>)");
  private static final ApiException BAD_KEY = new ApiException(401, "unauthorized", "this API key is not valid");
  private static final ApiException FOREIGN = new ApiException(403, "forbidden", "this API key belongs to another creator");
  private static final ApiException TIMEOUT = new ApiException(503, "timeout", "the analytics query took too long; retry later", 5);
  private static final ApiException UNAVAILABLE = new ApiException(503, "unavailable", "analytics are unavailable; retry later", 5);
  private static final ApiException BUSY = new ApiException(503, "busy", "too many analytics queries at once; retry later", 1);

  private final CreatorKeys keys;
  private final ClickQuery query;
  private final long timeoutMs;
  private final int maxBuckets;
  private final int maxQueries;
  private final QuerySlots slots;
  private final LongAdder busy = new LongAdder();
  private final LongSupplier clock;
  private final LongAdder timeouts = new LongAdder();
  private final LongAdder unavailable = new LongAdder();
  private final ThrottledLog refusals = new ThrottledLog();

  public AnalyticsHandler(CreatorKeys keys, ClickQuery query, long timeoutMs, int maxBuckets, int maxQueries, LongSupplier clock) {
    this.keys = keys;
    this.maxQueries = maxQueries;
    this.slots = new QuerySlots(maxQueries);
    this.query = query;
    this.timeoutMs = timeoutMs;
    this.maxBuckets = maxBuckets;
    this.clock = clock;
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (HttpTokens.repeated(ctx.request().headers(), "Authorization")) {
      ErrorResponses.send(ctx.response(), HttpTokens.REPEATED_AUTHORIZATION);
      return;
    }
    String presented = HttpTokens.bearer(ctx.request().getHeader("Authorization"));
    if (presented == null) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      ErrorResponses.send(ctx.response(), NO_KEY);
      return;
    }
    String username = Usernames.normalize(ctx.pathParam("username"));
    // A name that is not one (null) shares one slot count: its queries end at the key check.
    String creator = username == null ? "" : username;
    if (!slots.take(creator)) {
      busy.increment();
      refusals.warn(LOG, clock.getAsLong(), "refused queries", "analytics query for {} refused with 503 busy: {} queries"
        + " running (analytics.maxQueries), at most {} per creator", username, maxQueries, slots.perCreator());
      ErrorResponses.send(ctx.response(), BUSY);
      return;
    }
    keys.owner(presented).compose(owner -> {
      if (owner == null) {
        ctx.response().putHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        return Future.failedFuture(BAD_KEY);
      }
      if (!owner.equals(username)) {
        return Future.failedFuture(FOREIGN);
      }
      return query.clicks(username, QueryRange.parse(ctx.queryParams(), clock.getAsLong(), maxBuckets));
    }).timeout(timeoutMs, TimeUnit.MILLISECONDS).onComplete(ar -> {
      slots.release(creator);
      if (ar.succeeded()) {
        ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .putHeader(HttpHeaders.CACHE_CONTROL, "private, no-store").end(ar.result().toBuffer());
      } else if (ar.cause() instanceof ApiException) {
        ErrorResponses.send(ctx.response(), ar.cause());
      } else {
        boolean late = ar.cause() instanceof TimeoutException;
        (late ? timeouts : unavailable).increment();
        refusals.warn(LOG, clock.getAsLong(), "refused queries", "analytics query for {} refused with 503 {}: {}",
          username, late ? "timeout" : "unavailable", RedisErrors.describe(ar.cause()));
        ErrorResponses.send(ctx.response(), late ? TIMEOUT : UNAVAILABLE);
      }
    });
  }

  /** Queries answered {@code 503 timeout}: past {@code queryTimeoutMs}. */
  public long refusedTimeout() {
    return timeouts.sum();
  }

  /** Queries answered {@code 503 busy}: {@code maxQueries} were running, or the creator's share of them. */
  public long refusedBusy() {
    return busy.sum();
  }

  /** Queries running now. */
  public int running() {
    return slots.running();
  }

  /** Queries answered {@code 503 unavailable}: Redis failed them. */
  public long refusedUnavailable() {
    return unavailable.sum();
  }
}
