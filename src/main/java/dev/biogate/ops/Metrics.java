package dev.biogate.ops;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

/**
 * The Prometheus registry and how Vert.x reports into it (pools, HTTP client, JVM; server requests are measured by
 * {@link RequestMetrics}). Only bounded labels are enabled (route template, method,
 * status code, pool): never the path, the client address or a username. Latency timers publish histograms so
 * p50/p95/p99 can be computed across instances with {@code histogram_quantile}.
 */
public final class Metrics {

  private Metrics() {
  }

  public static PrometheusMeterRegistry newRegistry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // Two JVM meters carry abbreviated units (jvm_compilation_time_ms_total, process_cpu_time_ns_total), which
    // Prometheus' lint rejects: they are replaced by the same readings in seconds.
    registry.config().meterFilter(MeterFilter.deny(id -> ("jvm.compilation.time".equals(id.getName()) && "ms".equals(id.getBaseUnit()))
      || ("process.cpu.time".equals(id.getName()) && "ns".equals(id.getBaseUnit()))));
    registry.config().meterFilter(new MeterFilter() {
      @Override
      public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
        String n = id.getName();
        if (n.startsWith("biogate.http.server.requests") || n.startsWith("vertx.http.client.response.time")
          || n.startsWith("biogate.upstream.request.duration")) {
          return DistributionStatisticConfig.builder()
            .percentilesHistogram(true)
            .minimumExpectedValue((double) Duration.ofMillis(1).toNanos())
            .maximumExpectedValue((double) Duration.ofSeconds(30).toNanos())
            .build().merge(config);
        }
        return config;
      }
    });
    java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
    if (jit != null && jit.isCompilationTimeMonitoringSupported()) {
      FunctionCounter.builder("jvm.compilation.time", jit, j -> j.getTotalCompilationTime() / 1000.0).baseUnit("seconds")
        .description("Time spent by the JIT compiler").register(registry);
    }
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      FunctionCounter.builder("process.cpu.time", os, o -> o.getProcessCpuTime() / 1e9).baseUnit("seconds")
        .description("CPU time used by the gateway process").register(registry);
    }
    return registry;
  }

  /** A Vert.x that reports HTTP server/client and pool metrics into {@code registry}. */
  public static Vertx newVertx(VertxOptions options, PrometheusMeterRegistry registry) {
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
      .setEnabled(true)
      .setJvmMetricsEnabled(true)
      .setLabels(EnumSet.of(Label.HTTP_ROUTE, Label.HTTP_METHOD, Label.HTTP_CODE, Label.POOL_TYPE, Label.POOL_NAME))
      // Server requests are measured by RequestMetrics at a fraction of the cost; the server-socket byte counters
      // run on every read and write of every connection (measured: a quarter of cached-read throughput).
      .setDisabledMetricsCategories(Set.of(MetricsDomain.HTTP_SERVER.toCategory(), MetricsDomain.NET_SERVER.toCategory(),
        MetricsDomain.DATAGRAM_SOCKET.toCategory(), MetricsDomain.EVENT_BUS.toCategory()));
    return Vertx.builder().with(options.setMetricsOptions(metrics)).withMetrics(new MicrometerMetricsFactory(registry)).build();
  }
}
