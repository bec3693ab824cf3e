package dev.biogate.sink;

import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Supplier;

/**
 * The sink's reaction to Klaviyo refusing the private key (401/403): a key problem, not an outage, so it is logged
 * once, delivery pauses (events stay pending, no retry storm), and the key is checked with one
 * {@code GET /api/accounts/} per {@code probeMs} until Klaviyo accepts it again. Thread-safe.
 */
final class KeyPause {

  private static final Logger LOG = LoggerFactory.getLogger(KeyPause.class);

  private final long probeMs;
  private final Supplier<Future<Integer>> check;
  private volatile boolean paused;
  private volatile long nextProbeAt;

  KeyPause(long probeMs, Supplier<Future<Integer>> check) {
    this.probeMs = probeMs;
    this.check = check;
  }

  boolean paused() {
    return paused;
  }

  synchronized void refused(int status) {
    if (!paused) {
      paused = true;
      nextProbeAt = System.currentTimeMillis() + probeMs;
      LOG.error("Klaviyo refused the private key ({}): the sink is paused and keeps every event; it checks the key every {} ms"
        + " and resumes once it works (check KLAVIYO_PRIVATE_KEY and its scopes)", status, probeMs);
    }
  }

  /** While paused: the key is checked at most once per interval; completes when that check (if any) is done. */
  Future<Void> probe() {
    synchronized (this) {
      if (!paused || System.currentTimeMillis() < nextProbeAt) {
        return Future.succeededFuture();
      }
      nextProbeAt = System.currentTimeMillis() + probeMs;
    }
    return check.get().onSuccess(status -> {
      if (status >= 200 && status < 300 && paused) {
        paused = false;
        LOG.info("Klaviyo accepts the private key again; the sink resumes");
      }
    }).<Void>mapEmpty().otherwiseEmpty();
  }

  /** Check the key at the next opportunity (an operator acted, e.g. replayed dead letters). */
  void probeSoon() {
    nextProbeAt = 0;
  }

  /** How long until the next check is due. */
  long untilProbeMs() {
    return Math.max(100, nextProbeAt - System.currentTimeMillis());
  }
}
