package dev.biogate.http;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

import io.vertx.core.http.HttpMethod;

/**
 * Server-side latency per route template, method and status: {@code biogate_http_server_requests_seconds}
 * (histogram, so p50/p95/p99 aggregate across instances) and {@code biogate_http_server_responses_total} (exact
 * counts). Replaces Vert.x's per-request HTTP server meters, which cost about a quarter of the cached-read throughput.
 * On the profile fast path every response is counted with a {@link LongAdder} and timed into {@link ProfileLatency}
 * (per-thread fixed buckets, summed at scrape: {@code biogate_profile_response_duration_seconds}); every other route
 * is timed here.
 */
public final class RequestMetrics {

  /** Records nothing: per-request metrics switched off by configuration. */
  public static final RequestMetrics OFF = new RequestMetrics(null);

  public static final String PROFILE_ROUTE = "/v1/profiles/:username";

  /** The status recorded for a request whose connection closed before an answer was sent (nginx's convention). */
  public static final int CLOSED_BEFORE_ANSWER = 499;

  private final MeterRegistry registry;
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> responses = new ConcurrentHashMap<>();
  private final LongAdder[] profileResponses = new LongAdder[600];
  private final ProfileLatency profileLatency = new ProfileLatency();

  public RequestMetrics(MeterRegistry registry) {
    this.registry = registry;
    if (registry != null) {
      for (int status : ProfileLatency.STATUSES) {
        profileResponses[status] = responses(PROFILE_ROUTE, "GET", status);
      }
      if (registry instanceof PrometheusMeterRegistry) {
        ((PrometheusMeterRegistry) registry).getPrometheusRegistry().register(profileLatency);
      }
    }
  }

  /** Whether per-request metrics are on (the profile handler skips reading the clock when they are not). */
  public boolean enabled() {
    return registry != null;
  }

  /** A profile read answered with {@code status} after {@code nanos}: counted and timed, every one. */
  public void profile(int status, long nanos) {
    if (registry == null) {
      return;
    }
    boolean known = status >= 0 && status < profileResponses.length && profileResponses[status] != null;
    (known ? profileResponses[status] : responses(PROFILE_ROUTE, "GET", status)).increment();
    profileLatency.record(status, nanos);
  }

  /**
   * Any other request; {@code route} is a template (never a raw path) and a method outside the standard ones is
   * labelled {@code other} (any token is a valid method on the wire), so the label set stays bounded.
   */
  public void record(String route, String method, int status, long nanos) {
    if (registry != null) {
      String label = methodLabel(method);
      responses(route, label, status).increment();
      timer(route, label, status).record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  /** The method as a label: one of RFC 9110's methods or {@code PATCH}, else {@code other}. */
  static String methodLabel(String method) {
    switch (method) {
      case "GET": case "HEAD": case "POST": case "PUT": case "DELETE": case "PATCH": case "OPTIONS": case "TRACE": case "CONNECT":
        return method;
      default:
        return "other";
    }
  }

  /** One route's recorder for a handler served before the router ({@code template} as the router would name it). */
  public Route route(String template) {
    return new Route(template);
  }

  /**
   * The meters of one route, looked up once per method and status and then kept, so recording a {@code GET} or
   * {@code HEAD} costs no string building or map lookup.
   */
  public final class Route {
    private static final int STATUSES = 600;
    private final String template;
    private final AtomicReferenceArray<Meters> getAndHead = new AtomicReferenceArray<>(2 * STATUSES);

    private Route(String template) {
      this.template = template;
    }

    public void record(HttpMethod method, int status, long nanos) {
      if (registry == null) {
        return;
      }
      boolean head = method == HttpMethod.HEAD;
      if (!(head || method == HttpMethod.GET) || status < 0 || status >= STATUSES) {
        RequestMetrics.this.record(template, method.name(), status, nanos);
        return;
      }
      int i = (head ? STATUSES : 0) + status;
      Meters m = getAndHead.get(i);
      if (m == null) {
        m = new Meters(responses(template, method.name(), status), timer(template, method.name(), status));
        getAndHead.set(i, m);
      }
      m.count.increment();
      m.timer.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  private record Meters(LongAdder count, Timer timer) {
  }

  /** Exact response counts: {@code biogate_http_server_responses_total}, the basis of error-rate alerts. */
  private LongAdder responses(String route, String method, int status) {
    return responses.computeIfAbsent(route + ' ' + method + ' ' + status, k -> {
      LongAdder a = new LongAdder();
      FunctionCounter.builder("biogate.http.server.responses", a, LongAdder::sum)
        .description("Gateway HTTP responses by route template, method and status (exact counts)")
        .tags("route", route, "method", method, "status", Integer.toString(status)).register(registry);
      return a;
    });
  }

  private Timer timer(String route, String method, int status) {
    return timers.computeIfAbsent(route + ' ' + method + ' ' + status, k -> Timer.builder("biogate.http.server.requests")
      .description("Gateway HTTP requests by route template, method and status (server-side time)")
      .tags("route", route, "method", method, "status", Integer.toString(status)).register(registry));
  }
}
