package dev.biogate.links;

import dev.biogate.upstream.LinktreeClient;
import dev.biogate.upstream.UpstreamException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Applies link batch jobs, on whichever instance holds a job's lease. Every {@code pollMs} each instance scans the
 * active jobs and takes the lease of any job nobody holds (a new job, or one whose holder stopped or died: its
 * lease runs out after {@code leaseMs} without heartbeats). The holder applies the operations one at a time, in
 * order, each in {@link dev.biogate.upstream.Lane#BACKGROUND}: the cluster budget paces the job and readers with a
 * cache miss, webhook refreshes, always come first.
 *
 * <h2>Each operation applied once</h2>
 * Mark-then-call, with the upstream's idempotency key as the reconciliation:
 * <ol>
 *   <li>before the call, the operation is marked in flight (fenced by the lease: {@code redis/job_mark.lua});</li>
 *   <li>the call carries {@code Idempotency-Key: <job>:<index>}, the same on every attempt by every instance;</li>
 *   <li>the outcome is recorded with the lease check, and the marker dropped, in one step ({@code job_record.lua}).</li>
 * </ol>
 * A crash between 1 and 3 leaves the marker: the next holder calls again with the same key, and the upstream answers
 * with the first call's result instead of applying it twice. Without the key's help the operations are still safe
 * to repeat where it matters most: an update sets absolute values (a repeat changes nothing) and a delete that finds
 * the link gone after an interrupted call is recorded as applied. A create is the one operation the key alone
 * protects, which is why it is always sent. A holder that lost its lease (it stalled past {@code leaseMs}) can no
 * longer mark or record: its late answers are dropped and the new holder's call, same key, reconciles.
 */
final class LinkJobRunner {

  private static final Logger LOG = LoggerFactory.getLogger(LinkJobRunner.class);
  private static final long MIN_WAIT_MS = 20;
  private static final long MAX_WAIT_MS = 30_000;

  private final Vertx vertx;
  private final LinkJobStore store;
  private final java.util.function.Function<String, Future<Void>> finished;
  private final LinktreeClient upstream;
  private final long pollMs;
  private final long leaseMs;
  private final LongSupplier clock;
  private final String owner = UUID.randomUUID().toString();
  private final Map<String, Drain> held = new ConcurrentHashMap<>();
  private volatile boolean stopped;
  private volatile boolean scanning;
  private long timer = -1;

  /**
   * {@code finished}: told the creator of each job this instance finishes, to mark its cached copy outdated (the next
   * read fetches the profile with the job's changes; the copy would otherwise be served unchanged until it expired).
   */
  LinkJobRunner(Vertx vertx, LinkJobStore store, LinktreeClient upstream, long pollMs, long leaseMs, LongSupplier clock,
                java.util.function.Function<String, Future<Void>> finished) {
    this.finished = finished;
    this.vertx = vertx;
    this.store = store;
    this.upstream = upstream;
    this.pollMs = pollMs;
    this.leaseMs = leaseMs;
    this.clock = clock;
  }

  void start() {
    timer = vertx.setPeriodic(0, pollMs, t -> scan());
  }

  /** Stops applying; leases are released so another instance resumes at once. */
  Future<Void> stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    List<Future<Void>> releases = held.values().stream().map(Drain::stop).toList();
    held.clear();
    return Future.join(releases).otherwiseEmpty().mapEmpty();
  }

  /** Looks for work now (a job was just submitted here). */
  void scan() {
    if (stopped || scanning) {
      return;
    }
    scanning = true;
    store.active().onComplete(ar -> {
      scanning = false;
      if (ar.succeeded() && !stopped) {
        ar.result().stream().filter(id -> !held.containsKey(id)).forEach(this::take);
      }
    });
  }

  private void take(String id) {
    store.lease(id, owner, leaseMs, clock.getAsLong()).onSuccess(r -> {
      if (r == 1 && !stopped && !held.containsKey(id)) {
        LOG.info("applying link batch job {}", id);
        Drain d = new Drain(id);
        held.put(id, d);
        d.start();
      }
    });
  }

  /** One held job: heartbeat, then operations in order until all have a result or the lease is lost. */
  private final class Drain {
    final String id;
    long heartbeat = -1;
    volatile boolean done;
    String username;
    List<LinkOp> ops;
    Map<Integer, JsonObject> results = new HashMap<>();

    Drain(String id) {
      this.id = id;
    }

    void start() {
      heartbeat = vertx.setPeriodic(Math.max(10, leaseMs / 3), t -> store.lease(id, owner, leaseMs, clock.getAsLong())
        .onSuccess(r -> {
          if (r != 1) {
            lost("lease lost");
          }
        }));
      store.snapshot(id).onComplete(ar -> {
        if (ar.failed() || ar.result() == null) {
          lost(ar.failed() ? "redis unavailable" : "job gone");
          return;
        }
        username = ar.result().username();
        ops = ar.result().ops();
        results = new HashMap<>(ar.result().results());
        next();
      });
    }

    void next() {
      if (done) {
        return;
      }
      int index = -1;
      for (int i = 0; i < ops.size(); i++) {
        if (!results.containsKey(i)) {
          index = i;
          break;
        }
      }
      if (index < 0) {
        store.finish(id, owner, clock.getAsLong()).onComplete(ar -> {
          if (ar.succeeded() && ar.result()) {
            LOG.info("link batch job {} finished", id);
            finished.apply(username).onFailure(err -> LOG.warn("link batch job {}: the cached copy of {} could not be"
              + " marked outdated ({}); it is served until it expires", id, username, err.getMessage()));
          }
          end();
        });
        return;
      }
      int i = index;
      store.mark(id, owner, i).onComplete(ar -> {
        if (ar.failed()) {
          later(() -> next(), 1_000);
        } else if (ar.result() == null) {
          lost("lease lost");
        } else {
          attempt(i, !ar.result().isEmpty());
        }
      });
    }

    void attempt(int i, boolean resumed) {
      if (done) {
        return;
      }
      LinkOp op = ops.get(i);
      op.apply(upstream, username, id + ":" + i).onComplete(ar -> {
        if (ar.succeeded()) {
          String linkId = ar.result().getString("id", op.linkId());
          record(i, result("applied", resumed).put("link_id", linkId));
          return;
        }
        Throwable err = ar.cause();
        UpstreamException.Kind kind = err instanceof UpstreamException ? ((UpstreamException) err).kind() : UpstreamException.Kind.UNAVAILABLE;
        switch (kind) {
          case NOT_FOUND:
            if (LinkOp.DELETE.equals(op.op()) && resumed) {
              // The interrupted call reached the upstream and deleted it: that was this operation's success.
              record(i, result("applied", true).put("link_id", op.linkId()).put("note", "already deleted by the interrupted call"));
            } else {
              record(i, result("failed", resumed).put("http_status", 404).put("error", "not_found"));
            }
            return;
          case REJECTED:
          case AUTH:
            record(i, result("failed", resumed).put("http_status", ((UpstreamException) err).status())
              .put("error", kind == UpstreamException.Kind.AUTH ? "unauthorized" : "rejected"));
            return;
          default:
            // Budget spent, upstream 429, breaker open, upstream down: not this operation's fault. Wait and send
            // the same call again (same key); the marker stays, so a crash meanwhile is still reconciled.
            long wait = err instanceof UpstreamException ? ((UpstreamException) err).retryAfterMs() : 1_000;
            later(() -> attempt(i, resumed), Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, wait)));
        }
      });
    }

    JsonObject result(String status, boolean resumed) {
      JsonObject r = new JsonObject().put("status", status).put("at", clock.getAsLong());
      return resumed ? r.put("resumed", true) : r;
    }

    void record(int i, JsonObject r) {
      store.record(id, owner, i, r).onComplete(ar -> {
        if (ar.failed()) {
          later(() -> record(i, r), 1_000);
        } else if (!ar.result()) {
          lost("lease lost");
        } else {
          results.put(i, r);
          next();
        }
      });
    }

    void later(Runnable action, long ms) {
      vertx.setTimer(ms, t -> {
        if (!done) {
          action.run();
        }
      });
    }

    void lost(String why) {
      if (!done) {
        LOG.info("stopped applying link batch job {}: {}", id, why);
        end();
      }
    }

    void end() {
      done = true;
      vertx.cancelTimer(heartbeat);
      held.remove(id, this);
    }

    Future<Void> stop() {
      end();
      return store.release(id, owner);
    }
  }
}
