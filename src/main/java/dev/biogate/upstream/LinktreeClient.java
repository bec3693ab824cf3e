package dev.biogate.upstream;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.biogate.config.LinktreeOptions;
import dev.biogate.http.BreakerGate;
import dev.biogate.http.OutboundCalls;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.circuitbreaker.RetryPolicy;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URLEncoder;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntConsumer;

/**
 * The Linktree API as the gateway calls it. Every request takes a budget permit, then runs through the circuit
 * breaker; 5xx, timeouts and connection failures are retried with exponential backoff and full jitter. A 429 is not
 * an upstream fault: it stops every caller until its {@code Retry-After} and does not trip the breaker. A profile is
 * returned only whole: all link pages assembled, or a failure.
 */
public final class LinktreeClient {

  private static final Logger LOG = LoggerFactory.getLogger(LinktreeClient.class);

  /** How long a profile found to have more than {@code maxLinkPages} link pages is not fetched again. */
  static final Duration TOO_LARGE_MEMORY = Duration.ofMinutes(10);
  /** A call whose every attempt has the whole timeout (writes, the health probe). */
  private static final long NO_DEADLINE = Long.MIN_VALUE;
  private static final UpstreamException PAGES_EXCEEDED = new UpstreamException(UpstreamException.Kind.UNAVAILABLE,
    "the profile has more link pages than maxLinkPages", TOO_LARGE_MEMORY.toMillis(), 0);
  /**
   * The most a profile's links may add up to ({@link #jsonBytes}), all pages together: each page is bounded by the
   * answer limit, and 50 pages of 3.3 MB each, assembled as JSON trees, ran a 160 MiB heap out of memory at the
   * eighth. A Linktree profile's links are a few KiB.
   */
  static final long MAX_LINK_BYTES = OutboundCalls.MAX_ANSWER_BYTES;
  /**
   * How long a walk of link pages has from its first page to be finished across fetches of its name: at the default
   * budget's first-sight share (18 calls a minute) the largest walk allowed ({@code maxLinkPages}, 50) takes three.
   */
  static final Duration WALK_MEMORY = Duration.ofMinutes(5);
  /** The heap stopped walks may take, all names together: a sixteenth of the heap, at least 8 MiB. */
  static final long WALKS_MAX_HEAP_BYTES = Math.max(8L << 20, Runtime.getRuntime().maxMemory() / 16);
  /** What a fetch passes for {@code asOf} when it does not know the shared copy's version: no walk is kept or resumed. */
  public static final long NO_VERSION = Long.MIN_VALUE;
  private static final UpstreamException LINKS_MOVED = UpstreamException.of(UpstreamException.Kind.UNAVAILABLE,
    "the profile's links moved while their pages were read across fetches; read again");
  private static final UpstreamException LINKS_TOO_LARGE = new UpstreamException(UpstreamException.Kind.UNAVAILABLE,
    "the profile's links are larger than " + MAX_LINK_BYTES + " bytes", TOO_LARGE_MEMORY.toMillis(), 0);

  private final Vertx vertx;
  private final LinktreeOptions options;
  private final Cache<String, Long> tooLarge = Caffeine.newBuilder().executor(Runnable::run).maximumSize(10_000).expireAfterWrite(TOO_LARGE_MEMORY).build();
  /** Walks of link pages stopped by something that passes, for the name's next fetch to go on with. */
  private final StoppedWalks walks = new StoppedWalks(WALKS_MAX_HEAP_BYTES, WALK_MEMORY.toMillis(), System::currentTimeMillis);
  private final UpstreamBudget budget;
  private final MissAdmission admission;
  private final WebClient client;
  private final CircuitBreaker breaker;
  private final RetryPolicy retryPolicy;
  private final String authorization;
  private final MeterRegistry registry;
  private volatile long openedAtMs;
  /** The breaker, asked before a permit or a quota token is spent (see {@link #call}). */
  private final BreakerGate gate;
  /** Told when the breaker opens ({@code true}) and closes ({@code false}). */
  private volatile Consumer<Boolean> breakerListener = open -> { };
  /** The upstream's last answer refused the gateway's credentials (401/403); the breaker does not count these. */
  private volatile boolean credentialsRefused;
  /** Told the status when the upstream starts refusing the credentials; a serving gateway warns its operator. */
  private volatile IntConsumer credentialsRefusedListener = LinktreeClient::warnCredentialsRefused;
  /** Duration of the latest request, for {@code /health}: written by event loops, read by probes. */
  private volatile long lastLatencyMs;
  /** {@link System#nanoTime()} until which the last 429's back-off runs: a 429 after it is logged again. */
  private volatile long rateLimitedUntilNanos = System.nanoTime();

  public LinktreeClient(Vertx vertx, LinktreeOptions options, UpstreamBudget budget, MeterRegistry registry) {
    this(vertx, options, budget, registry, MissAdmission.OPEN);
  }

  /** A client whose foreground misses go through {@code admission} (known names vs never-seen names). */
  public LinktreeClient(Vertx vertx, LinktreeOptions options, UpstreamBudget budget, MeterRegistry registry,
                        MissAdmission admission) {
    this.vertx = vertx;
    this.admission = admission;
    this.registry = registry;
    this.options = options;
    this.budget = budget;
    this.client = OutboundCalls.client(vertx, OutboundCalls.clientOptions(options.profileTimeoutMs()),
      new PoolOptions().setHttp1MaxSize(32));
    this.retryPolicy = RetryPolicy.exponentialDelayWithJitter(options.retryBaseDelayMs(), options.retryMaxDelayMs());
    this.authorization = "Bearer " + (options.token() == null ? "" : options.token().reveal());
    this.breaker = OutboundCalls.breaker(vertx, "linktree", options.breakerMaxFailures(), options.breakerResetMs())
      .openHandler(v -> {
        openedAtMs = System.currentTimeMillis();
        LOG.warn("linktree is failing: circuit breaker opened after {} consecutive failures; misses are answered 503 and"
          + " cached copies served until a probe in {} ms", options.breakerMaxFailures(), options.breakerResetMs());
        breakerListener.accept(true);
      })
      .halfOpenHandler(v -> vertx.setTimer(IDLE_PROBE_DELAY_MS, t -> probeIfIdle()))
      .closeHandler(v -> {
        LOG.info("linktree answers again: circuit breaker closed");
        breakerListener.accept(false);
      });
    breaker.failurePolicy(LinktreeClient::isBreakerFailure);
    this.gate = new BreakerGate(breaker);
  }

  /**
   * Half-open, the next call is the probe that closes or reopens the breaker. On a busy instance a reader's miss makes
   * it within moments, and it is the better probe (the path readers need). An idle instance stayed half-open, its
   * {@code /health} saying "degraded", until some reader came (minutes in a drill); when no call has probed within this
   * delay, the client asks the upstream's {@code GET /health} itself, under the budget like any call.
   */
  static final long IDLE_PROBE_DELAY_MS = 1_000;

  private void probeIfIdle() {
    if (breaker.state() == CircuitBreakerState.HALF_OPEN && !gate.refusing()) {
      // No retries: the outcome is the breaker's to judge, and a failure simply reopens it. A budget denial leaves it
      // half-open for the next reader.
      call(new Call(HttpMethod.GET, "/health", null, null, true, json -> null), Lane.BACKGROUND, options.profileTimeoutMs(), NO_DEADLINE,
        options.maxRetries());
    }
  }

  /** Only upstream faults count against the breaker: not 404s, not 429s, not our own budget denials. */
  private static boolean isBreakerFailure(Future<?> outcome) {
    if (outcome.succeeded()) {
      return false;
    }
    Throwable cause = outcome.cause();
    return !(cause instanceof UpstreamException) || ((UpstreamException) cause).isUpstreamFault();
  }

  /**
   * A whole profile: the profile fields plus {@code links} holding every page, in upstream order. A foreground miss
   * first goes through the miss admission: a never-seen name takes the first-sight lane and the client's quota, for
   * every page, so a stranger's profile with thousands of links costs at most the first-sight share; a walk of its pages
   * stopped for want of a permit (or by a 429 or an upstream fault) goes on at the name's next fetch, from the page it
   * did not get. The name is known once the whole profile is assembled. A profile with more than {@code maxLinkPages} pages fails, and is not walked
   * again for {@link #TOO_LARGE_MEMORY} (each walk would spend the same permits and fail the same way).
   */
  public Future<JsonObject> fetchProfile(String username, Lane lane) {
    return fetchProfile(username, lane, NO_VERSION);
  }

  /**
   * {@link #fetchProfile(String, Lane)} for a fetch that read the shared copy's version {@code asOf} first: a walk of
   * the link pages that stops for want of a permit (or by a {@code 429} or an upstream fault) is kept, and the name's
   * next fetch from the same version goes on from the page it did not get. A change written since (a webhook, a
   * purge) changes the version, and the walk starts again: its pages were of a profile that is no more.
   */
  public Future<JsonObject> fetchProfile(String username, Lane lane, long asOf) {
    Long tooLargeUntil = tooLarge.getIfPresent(username);
    if (tooLargeUntil != null && tooLargeUntil - System.currentTimeMillis() > 0) {
      return Future.failedFuture(new UpstreamException(UpstreamException.Kind.UNAVAILABLE,
        "the profile has more than " + options.maxLinkPages() + " link pages", tooLargeUntil - System.currentTimeMillis(), 0));
    }
    if (gate.refusing()) {
      // No call can be made: neither the admission's round trip nor the client's miss quota is spent on it.
      return Future.failedFuture(circuitOpen());
    }
    String base = "/profiles/" + username;
    String client = MissAdmission.currentClient();
    return admission.laneFor(username, lane).compose(first -> {
      // Taken, not read: a fetch of the same name running beside this one (a refresh, another reader) starts afresh.
      Walk stopped = asOf == NO_VERSION ? null : walks.take(username, asOf);
      Future<Walk> walked = stopped != null ? collectLinks(username, first, stopped, asOf)
        : get(base, first, options.profileTimeoutMs(), p -> profileShape(p, username))
          .onFailure(err -> {
            if (first == Lane.FIRST_SIGHT && err instanceof UpstreamException
              && ((UpstreamException) err).kind() == UpstreamException.Kind.NOT_FOUND) {
              admission.notFound(client);
            }
          })
          .compose(profile -> collectLinks(username, first, new Walk(profile, (JsonArray) profile.getValue("links"),
            (String) profile.getValue("links_next_cursor"), new HashSet<>(), 1, jsonBytes(profile.getValue("links")),
            System.currentTimeMillis()), asOf));
      return walked.map(Walk::whole)
        .onSuccess(whole -> admission.markKnown(username))
        .onFailure(err -> {
          if (err == PAGES_EXCEEDED || err == LINKS_TOO_LARGE) {
            tooLarge.put(username, System.currentTimeMillis() + TOO_LARGE_MEMORY.toMillis());
          }
        });
    });
  }

  /**
   * A walk of a profile's link pages: the profile as its first page came, the links gathered so far, the cursor of
   * the next page ({@code null}: none), the cursors followed, the pages fetched and the links' size.
   */
  static final class Walk {
    final JsonObject profile;
    final JsonArray links;
    String cursor;
    final Set<String> seen;
    int pages;
    long bytes;
    /** When its first page came (epoch ms). */
    final long startedMs;
    /** It was kept and taken up again by a later fetch: its pages span that time. */
    boolean resumed;

    Walk(JsonObject profile, JsonArray links, String cursor, Set<String> seen, int pages, long bytes, long startedMs) {
      this.profile = profile;
      this.links = links;
      this.cursor = cursor;
      this.seen = seen;
      this.pages = pages;
      this.bytes = bytes;
      this.startedMs = startedMs;
    }

    JsonObject whole() {
      profile.remove("links_next_cursor");
      return profile.put("links", links);
    }

    /**
     * Whether a link id appears twice: the list moved under a walk that spanned fetches (links added in front shift
     * the pages a cursor points into), and the links gathered are not one list.
     */
    boolean repeatsALink() {
      Set<Object> ids = new HashSet<>();
      for (Object link : links) {
        if (link instanceof JsonObject && !ids.add(((JsonObject) link).getValue("id"))) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * Whether a walk whose page request failed with {@code err} is worth going on with later: stopped by what passes
   * (the budget, a 429, the breaker, an upstream fault), not by the profile being gone or the token refused.
   */
  private static boolean resumable(Throwable err) {
    if (!(err instanceof UpstreamException)) {
      return false;
    }
    UpstreamException.Kind kind = ((UpstreamException) err).kind();
    return kind == UpstreamException.Kind.BUDGET_EXHAUSTED || kind == UpstreamException.Kind.RATE_LIMITED
      || kind == UpstreamException.Kind.CIRCUIT_OPEN || kind == UpstreamException.Kind.UNAVAILABLE;
  }

  /** Which misses may spend the budget (see {@link MissAdmission}); webhooks mark the names they carry. */
  public MissAdmission admission() {
    return admission;
  }

  /**
   * Fetches the walk's remaining pages; a walk stopped by something that passes is kept for the name's next fetch,
   * which goes on from the page that failed.
   */
  private Future<Walk> collectLinks(String username, Lane lane, Walk walk, long asOf) {
    if (walk.bytes > MAX_LINK_BYTES) {
      return Future.failedFuture(LINKS_TOO_LARGE);
    }
    if (walk.cursor == null || walk.cursor.isEmpty()) {
      return walk.resumed && walk.repeatsALink() ? Future.failedFuture(LINKS_MOVED) : Future.succeededFuture(walk);
    }
    if (walk.pages >= options.maxLinkPages()) {
      return Future.failedFuture(PAGES_EXCEEDED);
    }
    if (walk.seen.contains(walk.cursor)) {
      return Future.failedFuture(UpstreamException.of(UpstreamException.Kind.UNAVAILABLE, "link pagination did not terminate"));
    }
    String path = "/profiles/" + username + "/links?cursor=" + URLEncoder.encode(walk.cursor, StandardCharsets.UTF_8);
    return get(path, lane, options.profileTimeoutMs(), LinktreeClient::pageShape)
      .recover(err -> {
        if (asOf != NO_VERSION && resumable(err) && walks.keep(username, walk, asOf)) {
          walk.resumed = true;
        }
        return Future.failedFuture(err);
      })
      .compose(page -> {
        JsonArray data = (JsonArray) page.getValue("data");
        walk.seen.add(walk.cursor);
        walk.links.addAll(data);
        walk.cursor = (String) page.getValue("next_cursor");
        walk.pages++;
        walk.bytes += jsonBytes(data);
        return collectLinks(username, lane, walk, asOf);
      });
  }

  /** About the JSON size of a value (the links): its text, and a few bytes for every other value and field. */
  static long jsonBytes(Object v) {
    if (v instanceof String) {
      return ((String) v).length() + 3;
    }
    long bytes = 2;
    if (v instanceof JsonObject) {
      for (Map.Entry<String, Object> f : (JsonObject) v) {
        bytes += 4 + f.getKey().length() + jsonBytes(f.getValue());
      }
    } else if (v instanceof JsonArray) {
      for (Object o : (JsonArray) v) {
        bytes += 1 + jsonBytes(o);
      }
    } else {
      bytes = 8;
    }
    return bytes;
  }

  /**
   * JSON whose links or cursor are not a list and a string, or a profile without its links or its own name: an upstream
   * fault, like malformed JSON. Read as they were, the first threw a ClassCastException (answered 500 with a stack
   * trace in the log), and a {@code 200 {}} or {@code 200 {"error":"maintenance"}} became a blank profile, cached and
   * served over the good copy it replaced. Other fields are dropped one by one.
   */
  private static UpstreamException profileShape(JsonObject profile, String username) {
    Object links = profile.getValue("links");
    Object cursor = profile.getValue("links_next_cursor");
    Object name = profile.getValue("username");
    return !(links instanceof JsonArray) || cursor != null && !(cursor instanceof String)
      || !(name instanceof String) || !((String) name).equalsIgnoreCase(username) ? wrongShape("profile") : null;
  }

  private static UpstreamException pageShape(JsonObject page) {
    Object data = page.getValue("data");
    Object next = page.getValue("next_cursor");
    if (data == null) {
      return UpstreamException.of(UpstreamException.Kind.UNAVAILABLE, "links page without data");
    }
    return !(data instanceof JsonArray) || next != null && !(next instanceof String) ? wrongShape("links page") : null;
  }

  private static UpstreamException wrongShape(String what) {
    return UpstreamException.of(UpstreamException.Kind.UNAVAILABLE, "upstream sent a " + what + " of the wrong shape");
  }

  /** The token's own profile ({@code GET /me}); used by preflight. */
  public Future<HttpResponse<Buffer>> rawGet(String path) {
    return client.getAbs(options.apiBase() + path).as(OutboundCalls.BOUNDED_BODY)
      .putHeader(HttpHeaders.AUTHORIZATION.toString(), authorization)
      .putHeader(HttpHeaders.ACCEPT.toString(), HttpHeaderValues.APPLICATION_JSON.toString())
      .putHeader(HttpHeaders.CONTENT_TYPE.toString(), HttpHeaderValues.APPLICATION_JSON.toString())
      .timeout(options.profileTimeoutMs())
      .send();
  }

  /**
   * One write ({@code POST}, {@code PATCH}, {@code DELETE}) under the budget and the breaker, like a read. Every write
   * carries {@code Idempotency-Key}, so the retries of an upstream fault (and a caller re-sending after a crash) apply
   * it at most once where the upstream honours the key. A 4xx other than 404/429/401/403 fails with
   * {@link UpstreamException.Kind#REJECTED}: the request itself is wrong, retrying cannot help.
   *
   * @return the JSON answer, an empty object when the upstream sent no body
   */
  public Future<JsonObject> write(HttpMethod method, String path, JsonObject body, String idempotencyKey, Lane lane) {
    return call(new Call(method, path, body, idempotencyKey, false, json -> null), lane, options.profileTimeoutMs(), NO_DEADLINE, 0);
  }

  /** A read ({@code GET}) with its JSON answer. */
  public Future<JsonObject> read(String path, Lane lane) {
    return get(path, lane, options.profileTimeoutMs(), json -> null);
  }

  /**
   * {@code statusOnly}: a 2xx is the whole answer, whatever its body (a health check may answer plain text).
   * {@code shape}: what is wrong with a 2xx answer's JSON, or {@code null}; checked inside the breaker, so an upstream
   * answering 200 with what is not a profile counts as failing (it used to count as up, {@code /health} saying healthy
   * while every uncached read was answered 503), and is retried like any upstream fault.
   */
  private record Call(HttpMethod method, String path, JsonObject body, String idempotencyKey, boolean statusOnly,
                      Function<JsonObject, UpstreamException> shape) {
  }

  /**
   * A read, retries included, ends within {@code timeoutMs}: a retry is made only while a quarter of it is left after
   * the back-off, and gets what is left. Each attempt had the whole timeout, so an upstream slower than it held a first
   * reader for three timeouts (30 s) and spent three permits on it.
   */
  private Future<JsonObject> get(String path, Lane lane, long timeoutMs, Function<JsonObject, UpstreamException> shape) {
    return call(new Call(HttpMethod.GET, path, null, null, false, shape), lane, timeoutMs,
      System.nanoTime() + timeoutMs * 1_000_000L, 0);
  }

  /**
   * The breaker is asked before the budget ({@link BreakerGate}): a permit is spent only on a call that is made. A
   * permit taken first was spent by every miss of an outage, and the probe that would have closed the breaker found
   * the budget used up.
   */
  private Future<JsonObject> call(Call call, Lane lane, long timeoutMs, long deadlineNanos, int attempt) {
    Runnable done = gate.pass();
    if (done == null) {
      return Future.failedFuture(circuitOpen());
    }
    long attemptMs = deadlineNanos == NO_DEADLINE ? timeoutMs
      : Math.max(1, Math.min(timeoutMs, (deadlineNanos - System.nanoTime()) / 1_000_000L));
    return budget.acquire(lane)
      .compose(permit -> breaker.<JsonObject>execute(() -> send(call, attemptMs)).onComplete(ar -> permit.settle()))
      .onComplete(ar -> done.run())
      .recover(err -> {
        if (err instanceof OpenCircuitException) {
          return Future.failedFuture(circuitOpen());
        }
        long backoff = backoffMs(attempt);
        if (err instanceof UpstreamException && ((UpstreamException) err).isUpstreamFault() && attempt < options.maxRetries()
          && breaker.state() == CircuitBreakerState.CLOSED
          && (deadlineNanos == NO_DEADLINE || deadlineNanos - System.nanoTime() - backoff * 1_000_000L >= timeoutMs * 250_000L)) {
          return vertx.timer(backoff).compose(t -> call(call, lane, timeoutMs, deadlineNanos, attempt + 1));
        }
        return Future.failedFuture(err);
      });
  }

  /** The project's one retry policy (exponential, full jitter): uniform in [0, min(max, base * 2^attempt)). */
  long backoffMs(int attempt) {
    return 1 + OutboundCalls.backoffMs(retryPolicy, attempt);
  }

  private Future<JsonObject> send(Call call, long timeoutMs) {
    long start = System.nanoTime();
    return request(call, timeoutMs).onComplete(ar -> {
      lastLatencyMs = (System.nanoTime() - start) / 1_000_000;
      record(start, ar.failed() ? ar.cause() : null);
    });
  }

  /** How long the latest upstream request took (answered or not), in milliseconds; 0 before the first. */
  public long lastLatencyMs() {
    return lastLatencyMs;
  }

  /** Latency and outcome of every upstream request: {@code biogate_upstream_request_duration_seconds{outcome}}. */
  private void record(long startNanos, Throwable failure) {
    String outcome = "ok";
    if (failure instanceof UpstreamException) {
      UpstreamException ue = (UpstreamException) failure;
      switch (ue.kind()) {
        case NOT_FOUND: outcome = "not_found"; break;
        case RATE_LIMITED: outcome = "rate_limited"; break;
        case AUTH: outcome = ue.status() == 403 ? "forbidden" : "unauthorized"; break;
        default: outcome = ue.getMessage().contains("timed out") ? "timeout" : ue.status() >= 500 ? "server_error" : "error";
      }
    } else if (failure != null) {
      outcome = "error";
    }
    Timer.builder("biogate.upstream.request.duration").description("Linktree API requests by outcome")
      .tag("outcome", outcome).register(registry).record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  private Future<JsonObject> request(Call call, long timeoutMs) {
    HttpRequest<Buffer> req = client.requestAbs(call.method(), options.apiBase() + call.path()).as(OutboundCalls.BOUNDED_BODY)
      .putHeader(HttpHeaders.AUTHORIZATION.toString(), authorization)
      .putHeader(HttpHeaders.ACCEPT.toString(), HttpHeaderValues.APPLICATION_JSON.toString())
      // On every request, reads too, as the integration checklist asks (harmless without a body).
      .putHeader(HttpHeaders.CONTENT_TYPE.toString(), HttpHeaderValues.APPLICATION_JSON.toString())
      .timeout(timeoutMs);
    dev.biogate.http.RequestTrace.propagate(req.headers());
    if (call.idempotencyKey() != null) {
      req.putHeader("Idempotency-Key", call.idempotencyKey());
    }
    return (call.body() == null ? req.send() : req.sendJsonObject(call.body()))
      .recover(err -> Future.failedFuture(UpstreamException.of(UpstreamException.Kind.UNAVAILABLE,
        err instanceof java.util.concurrent.TimeoutException || String.valueOf(err.getMessage()).contains("timeout")
          ? "upstream timed out" : "upstream connection failed")))
      .compose(resp -> interpret(resp, call.statusOnly()))
      .compose(json -> {
        UpstreamException wrong = call.shape().apply(json);
        return wrong == null ? Future.succeededFuture(json) : Future.failedFuture(wrong);
      });
  }

  private Future<JsonObject> interpret(HttpResponse<Buffer> resp, boolean statusOnly) {
    String remaining = resp.getHeader("X-RateLimit-Remaining");
    if (remaining != null) {
      try {
        budget.observeRemaining(Integer.parseInt(remaining.trim()));
      } catch (NumberFormatException ignored) {
        // A malformed header says nothing about our quota.
      }
    }
    int status = resp.statusCode();
    if (status == 401 || status == 403) {
      if (!credentialsRefused) {
        credentialsRefused = true; // said once per refusal, not per miss (several event loops may race: harmless)
        credentialsRefusedListener.accept(status);
      }
    } else if (status < 300 || status == 404) {
      if (credentialsRefused) {
        credentialsRefused = false; // an answer only an accepted token gets
        LOG.info("linktree accepts the API token again");
      }
    }
    if (status >= 200 && status < 300) {
      if (statusOnly || status == 204 || resp.body() == null || resp.body().length() == 0) {
        return Future.succeededFuture(new JsonObject());
      }
      try {
        JsonObject body = resp.bodyAsJsonObject();
        if (body == null) {
          throw new IllegalStateException();
        }
        return Future.succeededFuture(body);
      } catch (RuntimeException e) {
        return Future.failedFuture(new UpstreamException(UpstreamException.Kind.UNAVAILABLE, "upstream sent malformed JSON", 0, status));
      }
    }
    if (status == 404) {
      return Future.failedFuture(new UpstreamException(UpstreamException.Kind.NOT_FOUND, "no such profile upstream", 0, 404));
    }
    if (status == 429) {
      long retryAfterMs = retryAfterMs(resp.getHeader("Retry-After"));
      long now = System.nanoTime();
      if (now - rateLimitedUntilNanos >= 0) { // said once per back-off, not per answer
        LOG.warn("linktree rate-limited this API key (429): no upstream calls for {} s (Retry-After); misses are answered"
          + " 503 meanwhile. Another client of the same key, or a budget above what the key allows?", retryAfterMs / 1000);
      }
      rateLimitedUntilNanos = now + TimeUnit.MILLISECONDS.toNanos(retryAfterMs);
      budget.backOff(retryAfterMs);
      return Future.failedFuture(new UpstreamException(UpstreamException.Kind.RATE_LIMITED, "upstream rate limit", retryAfterMs, 429));
    }
    if (status == 401 || status == 403) {
      return Future.failedFuture(new UpstreamException(UpstreamException.Kind.AUTH,
        status == 401 ? "upstream rejected the API token" : "upstream token lacks permission", 0, status));
    }
    if (status >= 400 && status < 500) {
      return Future.failedFuture(new UpstreamException(UpstreamException.Kind.REJECTED, "upstream refused the request (" + status + ")",
        0, status));
    }
    return Future.failedFuture(new UpstreamException(UpstreamException.Kind.UNAVAILABLE, "upstream answered " + status, 0, status));
  }

  /** The longest wait one {@code 429} sets: two of the upstream's one-minute windows. */
  static final long MAX_RETRY_AFTER_S = 120;

  /**
   * Retry-After in delta-seconds, at most {@value #MAX_RETRY_AFTER_S}; absent or unparseable means one minute, the
   * upstream's window. The wait stops every instance's upstream calls: a bogus {@code Retry-After: 999999999} (a proxy's
   * error page) stopped them for an hour.
   */
  static long retryAfterMs(String header) {
    if (header != null) {
      try {
        long s = Long.parseLong(header.trim());
        if (s >= 0) {
          return Math.min(s, MAX_RETRY_AFTER_S) * 1000L;
        }
      } catch (NumberFormatException ignored) {
        // HTTP-date form is not used by this upstream; fall through to the default.
      }
    }
    return 60_000L;
  }

  /** Whether the upstream's last answer refused the gateway's token (401 or 403): every miss fails until it is fixed. */
  public boolean credentialsRefused() {
    return credentialsRefused;
  }

  public CircuitBreakerState breakerState() {
    return breaker.state();
  }

  private UpstreamException circuitOpen() {
    return new UpstreamException(UpstreamException.Kind.CIRCUIT_OPEN, "upstream circuit open", breakerRetryAfterMs(), 0);
  }

  /** Tells {@code listener} each time the breaker opens ({@code true}) or closes ({@code false}). */
  public void onBreakerChange(Consumer<Boolean> listener) {
    this.breakerListener = listener;
  }

  /**
   * Replaces the warning a serving gateway logs when the upstream starts refusing its credentials (with the status);
   * a one-shot command reports the refusal in its own words instead.
   */
  public void onCredentialsRefused(IntConsumer listener) {
    this.credentialsRefusedListener = listener;
  }

  private static void warnCredentialsRefused(int status) {
    LOG.warn("linktree refused the API token ({}): every miss is answered 503 until it accepts one again; check"
      + " LINKTREE_API_TOKEN (or LINKTREE_API_TOKEN_FILE, re-read every second)", status);
  }

  /** Time until the open breaker lets a probe through, at least one second. */
  public long breakerRetryAfterMs() {
    long left = options.breakerResetMs() - (System.currentTimeMillis() - openedAtMs);
    return Math.max(1000, left);
  }

  public UpstreamBudget budget() {
    return budget;
  }

  public void close() {
    breaker.close();
    client.close();
  }
}
