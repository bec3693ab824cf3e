package dev.biogate.http;

import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Latency of EVERY profile answer, hits included: {@code biogate_profile_response_duration_seconds} (a classic
 * Prometheus histogram by status). Sampling hits (1 in 16) made the quantiles describe misses; recording every hit
 * into a Micrometer timer costs throughput. Here each event-loop thread owns a fixed array of bucket counters (one
 * writer, so an ordered store replaces an atomic add: no contention, no allocation) and the arrays are summed only
 * when Prometheus scrapes.
 */
public final class ProfileLatency implements Collector {

  public static final String NAME = "biogate_profile_response_duration_seconds";

  /** Upper bounds in seconds: fine below a millisecond (hits), coarse up to the upstream timeout (misses). */
  static final double[] BOUNDS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    10, Double.POSITIVE_INFINITY};
  private static final long[] BOUND_NANOS = new long[BOUNDS.length - 1];
  /** Statuses a profile read answers; anything else is counted under {@code other}. */
  static final int[] STATUSES = {200, 304, 400, 404, 429, 503};
  private static final int SLOTS = STATUSES.length + 1;
  /** Per status: the bucket counts, then the sum of nanoseconds. */
  private static final int STRIDE = BOUNDS.length + 1;

  static {
    for (int i = 0; i < BOUND_NANOS.length; i++) {
      BOUND_NANOS[i] = (long) (BOUNDS[i] * 1e9);
    }
  }

  private final List<AtomicLongArray> shards = new CopyOnWriteArrayList<>();
  private final ThreadLocal<AtomicLongArray> local = ThreadLocal.withInitial(() -> {
    AtomicLongArray shard = new AtomicLongArray(SLOTS * STRIDE);
    shards.add(shard);
    return shard;
  });

  /** Records one answer; called on the thread that answered (each thread writes only its own shard). */
  public void record(int status, long nanos) {
    AtomicLongArray shard = local.get();
    int base = slot(status) * STRIDE;
    int b = 0;
    while (b < BOUND_NANOS.length && nanos > BOUND_NANOS[b]) {
      b++;
    }
    shard.lazySet(base + b, shard.get(base + b) + 1);
    shard.lazySet(base + BOUNDS.length, shard.get(base + BOUNDS.length) + nanos);
  }

  private static int slot(int status) {
    for (int i = 0; i < STATUSES.length; i++) {
      if (STATUSES[i] == status) {
        return i;
      }
    }
    return STATUSES.length;
  }

  @Override
  public MetricSnapshot collect() {
    HistogramSnapshot.Builder h = HistogramSnapshot.builder().name(NAME)
      .help("Server-side time of every profile read answer (GET /v1/profiles/{username}), hits included");
    for (int s = 0; s < SLOTS; s++) {
      long[] counts = new long[BOUNDS.length];
      long sumNanos = 0;
      long total = 0;
      for (AtomicLongArray shard : shards) {
        for (int b = 0; b < BOUNDS.length; b++) {
          counts[b] += shard.get(s * STRIDE + b);
        }
        sumNanos += shard.get(s * STRIDE + BOUNDS.length);
      }
      for (long c : counts) {
        total += c;
      }
      if (total == 0 && s == STATUSES.length) {
        continue;
      }
      String status = s < STATUSES.length ? Integer.toString(STATUSES[s]) : "other";
      h.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
        .labels(Labels.of("status", status))
        .classicHistogramBuckets(ClassicHistogramBuckets.of(BOUNDS, counts))
        .sum(sumNanos / 1e9)
        .build());
    }
    return h.build();
  }

  @Override
  public String getPrometheusName() {
    return NAME;
  }
}
