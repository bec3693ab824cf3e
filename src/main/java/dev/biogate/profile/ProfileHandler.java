package dev.biogate.profile;

import dev.biogate.config.CacheOptions;
import dev.biogate.http.ErrorResponses;
import dev.biogate.http.HttpTokens;
import dev.biogate.http.ProfileReads;
import dev.biogate.http.RequestMetrics;
import io.netty.util.AsciiString;
import io.vertx.core.Context;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

import java.util.List;

/**
 * {@code GET /v1/profiles/{username}}: the hot path. A fresh L1 copy is written straight from its stored bytes
 * with pre-built header values: no JSON work, no Redis round trip, no logging, no allocation beyond the response.
 * Stale copies are served while one background refresh runs; everything else goes to {@link ProfileService}.
 */
public final class ProfileHandler implements ProfileReads {

  static final AsciiString X_CACHE = AsciiString.cached("x-cache");
  static final AsciiString CACHE_STATUS = AsciiString.cached("cache-status");
  static final AsciiString APPLICATION_JSON = AsciiString.cached("application/json");
  static final AsciiString GZIP = AsciiString.cached("gzip");
  static final AsciiString ACCEPT_ENCODING = AsciiString.cached("Accept-Encoding");
  static final AsciiString HIT = AsciiString.cached("HIT");
  static final AsciiString MISS = AsciiString.cached("MISS");
  static final AsciiString STALE = AsciiString.cached("STALE");

  // RFC 9211 Cache-Status values, one per way a copy reaches the client.
  static final AsciiString CS_HIT = AsciiString.cached("biogate; hit");
  static final AsciiString CS_SHARED_HIT = AsciiString.cached("biogate; hit; detail=shared");
  static final AsciiString CS_STALE = AsciiString.cached("biogate; hit; detail=stale-while-revalidate");
  static final AsciiString CS_STALE_IF_ERROR = AsciiString.cached("biogate; fwd=stale; detail=stale-if-error");
  static final AsciiString CS_MISS = AsciiString.cached("biogate; fwd=uri-miss; stored");

  private static final AsciiString[] AGES = new AsciiString[3600];

  static {
    for (int i = 0; i < AGES.length; i++) {
      AGES[i] = AsciiString.cached(Integer.toString(i));
    }
  }

  private final ProfileService service;
  private final ProfileCache cache;
  private final Freshness freshness;
  private final AsciiString cacheControlFound;
  private final AsciiString cacheControlNotFound;
  private final CacheStats stats = new CacheStats();
  private final RequestMetrics metrics;

  public ProfileHandler(ProfileService service, CacheOptions options, RequestMetrics metrics) {
    this.service = service;
    this.metrics = metrics;
    this.cache = service.cache();
    this.freshness = service.freshness();
    this.cacheControlFound = AsciiString.cached("public, max-age=" + options.freshTtlMs() / 1000
      + ", stale-while-revalidate=" + options.staleWhileRevalidateMs() / 1000
      + ", stale-if-error=" + options.staleIfErrorMs() / 1000);
    this.cacheControlNotFound = AsciiString.cached("public, max-age=" + options.negativeTtlMs() / 1000);
  }

  /** Serves one read; {@code username} is already validated and normalised. */
  @Override
  public void handle(HttpServerRequest req, String username) {
    long start = System.nanoTime();
    long now = service.now();
    CachedProfile held = cache.get(username);
    if (held != null) {
      Freshness.State state = freshness.of(held, now);
      if (state == Freshness.State.FRESH) {
        stats.hit.increment();
        int status = write(req, held, now, HIT, CS_HIT);
        metrics.profile(status, System.nanoTime() - start);
        return;
      }
      if (state == Freshness.State.STALE) {
        stats.stale.increment();
        service.revalidate(username, held);
        int status = write(req, held, now, STALE, CS_STALE);
        metrics.profile(status, System.nanoTime() - start);
        return;
      }
    }
    Context ctx = Vertx.currentContext();
    service.resolve(username, held).onComplete(ar -> {
      if (Vertx.currentContext() == ctx) {
        complete(req, ar, start);
      } else {
        ctx.runOnContext(v -> complete(req, ar, start));
      }
    });
  }

  private void complete(HttpServerRequest req, io.vertx.core.AsyncResult<ProfileService.Result> ar, long start) {
    if (ar.failed()) {
      stats.unavailable.increment();
      ErrorResponses.send(req.response(), ProfileErrors.toHttp(ar.cause()));
      metrics.profile(req.response().getStatusCode(), System.nanoTime() - start);
      return;
    }
    metrics.profile(completed(req, ar.result()), System.nanoTime() - start);
  }

  private int completed(HttpServerRequest req, ProfileService.Result r) {
    switch (r.outcome) {
      case SHARED_HIT:
        stats.sharedHit.increment();
        return write(req, r.profile, service.now(), HIT, CS_SHARED_HIT);
      case SHARED_STALE:
        stats.stale.increment();
        return write(req, r.profile, service.now(), STALE, CS_STALE);
      case STALE_IF_ERROR:
        stats.staleIfError.increment();
        return write(req, r.profile, service.now(), STALE, CS_STALE_IF_ERROR);
      default:
        stats.miss.increment();
        return write(req, r.profile, service.now(), MISS, CS_MISS);
    }
  }

  /** Writes the copy and returns the status sent. */
  private int write(HttpServerRequest req, CachedProfile p, long now, AsciiString xCache, AsciiString cacheStatus) {
    HttpServerResponse resp = req.response();
    MultiMap h = resp.headers();
    h.add(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON);
    h.add(X_CACHE, xCache);
    h.add(CACHE_STATUS, cacheStatus);
    h.add(HttpHeaders.AGE, age(p.ageMs(now)));
    if (!p.found()) {
      h.add(HttpHeaders.CACHE_CONTROL, cacheControlNotFound);
      resp.setStatusCode(404).end(p.json());
      return 404;
    }
    MultiMap in = req.headers();
    boolean gzip = HttpTokens.acceptsGzip(in.get(HttpHeaders.ACCEPT_ENCODING));
    h.add(HttpHeaders.ETAG, gzip ? p.gzipEtag() : p.etag());
    h.add(HttpHeaders.CACHE_CONTROL, cacheControlFound);
    h.add(HttpHeaders.VARY, ACCEPT_ENCODING);
    String inm = in.get(HttpHeaders.IF_NONE_MATCH);
    if (inm != null && (revalidates(inm, p) || revalidatesOnAnotherLine(in, p))) {
      resp.setStatusCode(304).end();
      return 304;
    }
    if (gzip) {
      h.add(HttpHeaders.CONTENT_ENCODING, GZIP);
      resp.end(p.gzip());
    } else {
      resp.end(p.json());
    }
    return 200;
  }

  /** Either tag revalidates: the content is the same, only its encoding differs. */
  private static boolean revalidates(String ifNoneMatch, CachedProfile p) {
    return HttpTokens.noneMatchHits(ifNoneMatch, p.etag()) || HttpTokens.noneMatchHits(ifNoneMatch, p.gzipEtag());
  }

  /**
   * Repeated {@code If-None-Match} lines are one comma-joined list (RFC 9110 §5.3); looked at only when the first line
   * did not match, so the common single-line case allocates nothing.
   */
  private static boolean revalidatesOnAnotherLine(MultiMap in, CachedProfile p) {
    List<String> lines = in.getAll(HttpHeaders.IF_NONE_MATCH);
    for (int i = 1; i < lines.size(); i++) {
      if (revalidates(lines.get(i), p)) {
        return true;
      }
    }
    return false;
  }

  public CacheStats stats() {
    return stats;
  }

  static CharSequence age(long ageMs) {
    long s = ageMs / 1000;
    return s < AGES.length ? AGES[(int) s] : Long.toString(s);
  }
}
