package dev.biogate.analytics;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
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

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
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
  /** Keys being looked up now, at most {@code maxQueries}, known keys aside. */
  private final AtomicInteger lookups = new AtomicInteger();
  /**
   * Hashes of keys found valid on this instance in the last {@value #KNOWN_MINUTES} minutes, with their creator (at most
   * {@value #KNOWN_MAX}): their lookups need no lookup place. Only a valid key gets in, so strangers cannot fill it.
   */
  private final Cache<String, String> known = Caffeine.newBuilder().executor(Runnable::run).maximumSize(KNOWN_MAX)
    .expireAfterWrite(Duration.ofMinutes(KNOWN_MINUTES)).build();
  private static final int KNOWN_MAX = 10_000;
  private static final int KNOWN_MINUTES = 10;
  /** A refusal already answered (503 busy after the key lookup): nothing more to send. */
  private static final ApiException ANSWERED = new ApiException(503, "busy", "answered", 1);
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
    String hash = CreatorKeys.hash(presented);
    if (hash == null) {
      refuseKey(ctx);
      return;
    }
    Slot slot = new Slot();
    Future<String> owner;
    if (username.equals(known.getIfPresent(hash))) {
      // A key found to be this creator's lately takes the creator's slot first and is looked up again (a revoked key
      // is refused at once) without a lookup place: made-up keys from many addresses, holding every lookup place,
      // kept 44-46 % of a creator's own queries out.
      if (!slot.take(username)) {
        refuseBusy(ctx, username);
        return;
      }
      owner = keys.ownerOf(hash);
    } else {
      // Other keys being looked up are bounded as queries are (each is a Redis call), but hold no creator's slot:
      // only a key found to be the creator's takes one of that creator's slots (taken before the lookup, a made-up
      // key aimed at a creator's URL held that creator's share).
      if (lookups.incrementAndGet() > maxQueries) {
        lookups.decrementAndGet();
        refuseBusy(ctx, username);
        return;
      }
      owner = keys.ownerOf(hash).andThen(ar -> lookups.decrementAndGet());
    }
    owner.compose(found -> {
      if (found == null) {
        known.invalidate(hash);
        ctx.response().putHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        return Future.failedFuture(BAD_KEY);
      }
      if (!found.equals(username)) {
        return Future.failedFuture(FOREIGN);
      }
      known.put(hash, found);
      Boolean taken = slot.take(found);
      if (taken == null || !taken) {
        if (taken != null) {
          refuseBusy(ctx, username); // else the request timed out meanwhile and was answered
        }
        return Future.failedFuture(ANSWERED);
      }
      return query.clicks(username, QueryRange.parse(ctx.queryParams(), clock.getAsLong(), maxBuckets));
    }).timeout(timeoutMs, TimeUnit.MILLISECONDS).onComplete(ar -> {
      slot.release();
      if (ar.failed() && ar.cause() == ANSWERED) {
        return;
      }
      if (ar.succeeded()) {
        ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .putHeader(HttpHeaders.CACHE_CONTROL, "private, no-store").end(ar.result().toBuffer());
      } else if (ar.cause() instanceof ApiException) {
        ErrorResponses.send(ctx.response(), ar.cause());
      } else {
        // Redis failed (the key may not even have been checked): a query that can never be answered is a 400, not a
        // 503 asking for a retry that would fail the same way.
        ApiException malformed = malformed(ctx);
        if (malformed != null) {
          ErrorResponses.send(ctx.response(), malformed);
          return;
        }
        boolean late = ar.cause() instanceof TimeoutException;
        (late ? timeouts : unavailable).increment();
        refusals.warn(LOG, clock.getAsLong(), "refused queries", "analytics query for {} refused with 503 {}: {}",
          username, late ? "timeout" : "unavailable", RedisErrors.describe(ar.cause()));
        ErrorResponses.send(ctx.response(), late ? TIMEOUT : UNAVAILABLE);
      }
    });
  }

  /** The refusal of the query's parameters, or {@code null} when they make a query. */
  private ApiException malformed(RoutingContext ctx) {
    try {
      QueryRange.parse(ctx.queryParams(), clock.getAsLong(), maxBuckets);
      return null;
    } catch (ApiException e) {
      return e;
    }
  }

  private static void refuseKey(RoutingContext ctx) {
    ctx.response().putHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    ErrorResponses.send(ctx.response(), BAD_KEY);
  }

  private void refuseBusy(RoutingContext ctx, String username) {
    busy.increment();
    refusals.warn(LOG, clock.getAsLong(), "refused queries", "analytics query for {} refused with 503 busy: {} queries"
      + " running or keys being looked up (analytics.maxQueries), at most {} queries per creator", username, maxQueries,
      slots.perCreator());
    ErrorResponses.send(ctx.response(), BUSY);
  }

  /**
   * The query slot one request holds, once its key is found to be the creator's; given back when the request ends
   * (a slot taken after the request timed out is given back at once: nothing would release it later).
   */
  private final class Slot {
    private String creator;
    private boolean ended;

    /** True when taken, false when the creator's share or every slot is taken, {@code null} once the request ended. */
    synchronized Boolean take(String owner) {
      if (ended) {
        return null;
      }
      if (owner.equals(creator)) {
        return true; // taken before the lookup (a known key)
      }
      if (!slots.take(owner)) {
        return false;
      }
      creator = owner;
      return true;
    }

    synchronized void release() {
      ended = true;
      if (creator != null) {
        slots.release(creator);
        creator = null;
      }
    }
  }

  /** Queries answered {@code 503 timeout}: past {@code queryTimeoutMs}. */
  public long refusedTimeout() {
    return timeouts.sum();
  }

  /** Queries answered {@code 503 busy}: {@code maxQueries} were running, or the creator's share of them. */
  public long refusedBusy() {
    return busy.sum();
  }

  /** Requests being handled now: queries running, and keys being looked up. */
  public int inFlight() {
    return slots.running() + lookups.get();
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
