package dev.biogate.webhook;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Webhook deliveries by provider and result ({@code received}, {@code duplicate}, or the error code the sender was
 * answered with). Results are a closed set, so the metric's labels stay bounded.
 */
public final class WebhookStats {

  public static final List<String> PROVIDERS = List.of(Delivery.LINKTREE, Delivery.LINKME, KlaviyoBatch.PROVIDER);
  public static final List<String> RESULTS = List.of("received", "duplicate", "missing_signature", "invalid_signature",
    "stale_timestamp", "webhook_id_mismatch", "backlog_full", "ingest_busy", "bad_request", "payload_too_large", "unsupported_media_type", "webhook_disabled", "unavailable", "other");

  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

  public WebhookStats() {
    for (String p : PROVIDERS) {
      for (String r : RESULTS) {
        counts.put(p + '/' + r, new LongAdder());
      }
    }
  }

  void record(String provider, String result) {
    LongAdder a = counts.get(provider + '/' + result);
    if (a == null) {
      a = counts.get(provider + "/other");
    }
    if (a != null) {
      a.increment();
    }
  }

  public long count(String provider, String result) {
    LongAdder a = counts.get(provider + '/' + result);
    return a == null ? 0 : a.sum();
  }
}
