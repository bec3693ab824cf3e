package dev.biogate.redis;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VertxException;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.RequestImpl;
import io.vertx.redis.client.impl.types.ErrorType;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The gateway's Redis for one server (standalone, the Sentinel master, or one Cluster master behind
 * {@link ClusterRedis}): every {@link #send} from one event loop shares ONE long-lived connection of that event loop,
 * pipelined, with a deadline on every call.
 * <p>
 * Why not the pooled client's {@code send}: each command would lease a pooled connection, so more concurrent
 * commands than the pool size wait on each other; a connection that is kept multiplexes any number of commands.
 * Why one per event loop (at most {@value #MAX_LINES} and half the pool, then shared): a connection answers on its own
 * event loop, so a single one for the process would parse every reply on one thread and hand each to its caller's
 * thread; a connection of the caller's own loop parses there and completes the caller in the same turn.
 * <p>
 * Promises:
 * <ul>
 *   <li>Every call ends within {@code commandTimeoutMs} (waiting for the connection included) with a reply or a
 *       failure.</li>
 *   <li>A connection that breaks (socket closed, a node unreachable, a demoted Sentinel master answering
 *       {@code READONLY}, or nothing succeeding for a whole timeout) is replaced in the background, at most every
 *       {@value #RENEW_INTERVAL_MS} ms; calls keep using the old one meanwhile.</li>
 *   <li>Blocking commands ({@code BLPOP}, {@code XREADGROUP ... BLOCK}, {@code WAIT}, ...), alone or in a pipeline,
 *       never occupy the shared connection: they go through a connection of their own, with the timeout extended by
 *       the block time. Pub/sub needs {@link #connect()}.</li>
 * </ul>
 * {@link #connect()} hands out a dedicated connection (for subscriptions and blocking reads), within the timeout.
 * <p>
 * Two vertx-redis-client internals are read, both stable across 5.0.x: {@code RequestImpl.getArgs()} (the block
 * time of a blocking command) and {@code ErrorType} (a Redis error reply, as opposed to a connection failure); and a
 * shared connection's socket, to write the commands of one event-loop turn together ({@link WriteCoalescing}).
 */
public final class MultiplexedRedis implements Redis {

  private static final Logger LOG = LoggerFactory.getLogger(MultiplexedRedis.class);
  static final long RENEW_INTERVAL_MS = 250;
  /** How vertx-redis-client 5.0.x words a connection's full queue of waiting replies ({@code maxWaitingHandlers}). */
  private static final String QUEUE_FULL = "Redis waiting queue is full";
  /**
   * How long building the shared connection may take. Longer than a command's deadline on purpose: a cold JVM's
   * first connection can take longer than one; callers still fail at their own deadline, but the attempt goes on
   * and serves the calls after them instead of starting over.
   */
  static final long CONNECT_TIMEOUT_MS = 10_000;
  /**
   * Connections the shared pool holds per line: the current one, and those replaced but still finishing their calls
   * (each is closed a command timeout after its replacement; a Sentinel switch replaces every line three times in 4 s).
   */
  private static final int LINE_POOL_PER_LINE = 4;
  private static final Set<String> BLOCKING = Set.of("blpop", "brpop", "brpoplpush", "blmove", "bzpopmin", "bzpopmax",
    "blmpop", "bzmpop", "xread", "xreadgroup", "wait");
  private static final Set<String> PUBSUB = Set.of("subscribe", "psubscribe", "ssubscribe", "unsubscribe",
    "punsubscribe", "sunsubscribe", "monitor");

  /** Shared connections per server at most: beyond it, event loops share them. */
  static final int MAX_LINES = 8;

  private final Vertx vertx;
  /** Where the shared connections come from: a pool of their own, so that replacing one never waits for a slot. */
  private final RenewingClient lineClient;
  /** Dedicated connections: blocking commands, subscriptions, {@link #connect()}. */
  private final RenewingClient client;
  private final long timeoutMs;
  /** How many shared connections at most: {@link #MAX_LINES}, and never more than half the blocking commands' pool. */
  private final int maxLines;
  private final Object lock = new Object();
  /** The line of each event loop that sent a command (several loops share one beyond {@link #MAX_LINES}). */
  private final Map<EventExecutor, Line> byLoop = new ConcurrentHashMap<>();
  private final List<Line> lines = new ArrayList<>();
  /** The line of callers outside any Vert.x context. */
  private Line detached;
  private volatile boolean closed;
  /** Failed replacements (every line retries every {@value #RENEW_INTERVAL_MS} ms): a line per 10 s for the client. */
  private final ThrottledLog renewFailures = new ThrottledLog();
  /**
   * One line per interval for the whole process: after a restart or a failover every connection of every client is
   * replaced, and a line each (39 per instance over three Sentinel failovers in a drill) said nothing more than one.
   */
  private static final ThrottledLog REPLACED = new ThrottledLog();

  private MultiplexedRedis(Vertx vertx, RenewingClient lineClient, RenewingClient client, long commandTimeoutMs, int maxLines) {
    this.vertx = vertx;
    this.lineClient = lineClient;
    this.client = client;
    this.timeoutMs = commandTimeoutMs;
    this.maxLines = maxLines;
  }

  /**
   * A client for the server(s) of {@code options}. Blocking commands, subscriptions and {@link #connect()} take their
   * connections from a pool of {@code options.getMaxPoolSize()}; the shared connections (at most half as many) from
   * a pool of their own, with room for the ones being replaced while the old ones finish their calls. In one pool,
   * blocking commands could hold every connection (each {@code WAIT} holds one while a replica is missing) and a
   * shared connection being replaced, after a Sentinel switch, waited for one of them to end: every call of that
   * event loop with it.
   */
  public static MultiplexedRedis create(Vertx vertx, RedisOptions options, long commandTimeoutMs) {
    return create(vertx, options, commandTimeoutMs, o -> Redis.createClient(vertx, o));
  }

  /**
   * Like {@link #create(Vertx, RedisOptions, long)}, with the Vert.x clients built by {@code clients} (a Sentinel
   * client that asks the Sentinels in an order of the caller's). The shared connections' client does not remember
   * where the Sentinels said the master was (it does for a second by default): the shared connections are renewed
   * when a switch is announced, and a remembered answer would send them back to the old master.
   */
  public static MultiplexedRedis create(Vertx vertx, RedisOptions options, long commandTimeoutMs,
                                        Function<RedisOptions, Redis> clients) {
    int maxLines = Math.max(1, Math.min(MAX_LINES, options.getMaxPoolSize() / 2));
    RedisOptions lines = new RedisOptions(options).setMaxPoolSize(LINE_POOL_PER_LINE * maxLines)
      .setPoolName("lines-" + UUID.randomUUID()).setTopologyCacheTTL(1);
    RedisOptions dedicated = new RedisOptions(options).setPoolName(UUID.randomUUID().toString());
    return new MultiplexedRedis(vertx, new RenewingClient(vertx, () -> clients.apply(lines)),
      new RenewingClient(vertx, () -> clients.apply(dedicated)), commandTimeoutMs, maxLines);
  }

  /**
   * Starts building the shared connections now, one on each event loop (up to the cap), rather than on each loop's
   * first call, so an instance's first requests do not pay for them; completes when they are up (failures are only
   * reported, the next call on that loop tries again).
   */
  public Future<Void> warmUp() {
    VertxInternal internal = (VertxInternal) vertx;
    List<Future<RedisConnection>> up = new ArrayList<>();
    for (EventExecutor loop : internal.nettyEventLoopGroup()) {
      if (up.size() == maxLines) {
        break;
      }
      ContextInternal onLoop = internal.contextBuilder().withThreadingModel(ThreadingModel.EVENT_LOOP)
        .withEventLoop((EventLoop) loop).build();
      Promise<RedisConnection> connected = onLoop.promise();
      onLoop.runOnContext(v -> line().connection().onComplete(connected));
      up.add(connected.future());
    }
    return Future.all(up).mapEmpty();
  }

  @Override
  public Future<RedisConnection> connect() {
    return bounded(client.connect(), timeoutMs);
  }

  @Override
  public Future<Response> send(Request request) {
    String name = request.command().toString().toLowerCase();
    if (PUBSUB.contains(name)) {
      return Future.failedFuture(VertxException.noStackTrace(name + " needs a connection of its own: use connect()"));
    }
    if (BLOCKING.contains(name)) {
      long blockMs = blockMs(name, request);
      if (blockMs > 0) {
        return dedicated(c -> c.send(request), blockMs);
      }
      if (blockMs == 0) {
        return Future.failedFuture(VertxException.noStackTrace(name + " without a time limit would block for ever"));
      }
    }
    return shared(c -> c.send(request));
  }

  /**
   * A pipeline; one holding a blocking command ({@code WAIT} after a write, typically) runs on a connection of its
   * own, like a blocking {@link #send}: {@code WAIT} still covers the writes before it (same connection), and it
   * blocks nobody else's commands while a replica is slow or missing.
   */
  @Override
  public Future<List<Response>> batch(List<Request> requests) {
    long blockMs = 0;
    for (Request r : requests) {
      String name = r.command().toString().toLowerCase();
      if (PUBSUB.contains(name)) {
        return Future.failedFuture(VertxException.noStackTrace(name + " needs a connection of its own: use connect()"));
      }
      if (BLOCKING.contains(name)) {
        long ms = blockMs(name, r);
        if (ms == 0) {
          return Future.failedFuture(VertxException.noStackTrace(name + " without a time limit would block for ever"));
        }
        blockMs += Math.max(0, ms);
      }
    }
    if (blockMs > 0) {
      return dedicated(c -> c.batch(requests), blockMs);
    }
    return shared(c -> c.batch(requests));
  }

  @Override
  public Future<Void> close() {
    List<Line> all;
    synchronized (lock) {
      closed = true;
      all = new ArrayList<>(lines);
      if (detached != null) {
        all.add(detached);
      }
    }
    // The pool closes last: a connection still being opened (its handshake in flight) is waited for, at most one
    // command timeout, and closed first, or the client would log its failure as an unhandled error.
    List<Future<Void>> lines = new ArrayList<>(all.size());
    all.forEach(l -> lines.add(l.close()));
    return Future.join(lines).timeout(timeoutMs, TimeUnit.MILLISECONDS)
      .transform(ar -> Future.join(lineClient.close(), client.close()).mapEmpty());
  }

  /**
   * Replaces every shared connection now: a Sentinel announced a new master, and the old one keeps taking writes
   * (which its resync with the new master later discards) until Sentinel turns it into a replica, seconds later.
   * Commands sent meanwhile wait for the replacement rather than go to the old master.
   */
  public void renewAll() {
    List<Line> all;
    synchronized (lock) {
      all = new ArrayList<>(lines);
      if (detached != null) {
        all.add(detached);
      }
    }
    all.forEach(Line::renewNow);
  }

  /** The line of the calling event loop (created on first use, from that loop, so its connection lives there). */
  private Line line() {
    Context ctx = Vertx.currentContext();
    if (ctx == null) {
      synchronized (lock) {
        if (detached == null) {
          detached = new Line();
        }
        return detached;
      }
    }
    EventExecutor loop = ((ContextInternal) ctx).nettyEventLoop();
    Line line = byLoop.get(loop);
    if (line != null) {
      return line;
    }
    synchronized (lock) {
      return byLoop.computeIfAbsent(loop, l -> {
        if (lines.size() < maxLines) {
          lines.add(new Line());
          return lines.get(lines.size() - 1);
        }
        return lines.get(byLoop.size() % maxLines);
      });
    }
  }

  private <T> Future<T> shared(Function<RedisConnection, Future<T>> op) {
    return line().shared(op);
  }

  /** The shared connection of the calling event loop. */
  Future<RedisConnection> sharedConnection() {
    return line().connection();
  }

  /** One shared connection and its replacement; its fields are guarded by itself. */
  private final class Line {
    private Future<RedisConnection> current;
    private long lastAttemptNanos;
    /** The replacement being built, while one is. */
    private Future<RedisConnection> renewal;
    /** The last connection the server closed (a demoted master drops its clients): nothing is sent on it again. */
    private volatile RedisConnection ended;
    private volatile long lastSuccessNanos = System.nanoTime();

    private <T> Future<T> shared(Function<RedisConnection, Future<T>> op) {
      Future<RedisConnection> conn = connection();
      Future<T> result = conn.compose(c -> {
        if (c == ended) {
          // The server closed it (a master demoted by Sentinel drops its clients): nothing was sent, so the command
          // goes to the replacement instead of failing.
          return renew(c).compose(op);
        }
        return op.apply(c).recover(err -> {
          // A demoted master refuses writes with READONLY before running them: the same command on the new master.
          if (err instanceof ErrorType && ((ErrorType) err).is("READONLY")) {
            return renew(c).compose(op);
          }
          return Future.failedFuture(err);
        });
      });
      return onCallerContext(RedisTimeoutException.within(result, timeoutMs).andThen(ar -> {
        if (ar.succeeded()) {
          lastSuccessNanos = System.nanoTime();
        } else if (conn.succeeded() && broken(ar.cause())) {
          renew(conn.result());
        }
      }));
    }

    /** The shared connection; a failed attempt is remembered for {@link #RENEW_INTERVAL_MS} so callers fail fast. */
    private Future<RedisConnection> connection() {
      synchronized (this) {
        if (closed) {
          return Future.failedFuture(VertxException.noStackTrace("redis client closed"));
        }
        if (current == null || (current.failed() && sinceLastAttemptMs() >= RENEW_INTERVAL_MS)) {
          lastAttemptNanos = System.nanoTime();
          current = bounded(open(), Math.max(timeoutMs, CONNECT_TIMEOUT_MS)).onSuccess(this::watch);
        }
        return current;
      }
    }

    /**
     * Replaces {@code broken} in the background (at most every {@value #RENEW_INTERVAL_MS} ms); completes with the
     * connection to use instead: the one being built, or the one that already replaced it.
     */
    private Future<RedisConnection> renew(RedisConnection broken) {
      Promise<RedisConnection> replaced = Promise.promise();
      synchronized (this) {
        if (closed) {
          return Future.failedFuture(VertxException.noStackTrace("redis client closed"));
        }
        if (renewal != null) {
          return renewal;
        }
        if (current == null || !current.succeeded() || current.result() != broken) {
          return current == null ? connectionFailure() : current;
        }
        if (sinceLastAttemptMs() < RENEW_INTERVAL_MS) {
          return connectionFailure();
        }
        lastAttemptNanos = System.nanoTime();
        renewal = replaced.future();
      }
      bounded(open(), Math.max(timeoutMs, CONNECT_TIMEOUT_MS)).onComplete(ar -> {
        RedisConnection old = null;
        RedisConnection unused = null;
        synchronized (this) {
          renewal = null;
          if (ar.succeeded() && !closed) {
            old = broken;
            current = Future.succeededFuture(ar.result());
          } else if (ar.succeeded()) {
            unused = ar.result();
          }
        }
        if (unused != null) {
          unused.close();
          replaced.fail(VertxException.noStackTrace("redis client closed"));
          return;
        }
        if (old != null) {
          watch(ar.result());
          REPLACED.info(LOG, System.currentTimeMillis(), "connections replaced", "redis connection replaced");
          RedisConnection draining = old;
          vertx.setTimer(timeoutMs, t -> draining.close());
          replaced.complete(ar.result());
        } else {
          if (!closed && !String.valueOf(ar.cause().getMessage()).contains("Client is closed")) {
            // Closing fails every renewal in flight ("Client is closed"): expected, nothing to report. So does a stop
            // during start-up, which closes Vert.x (and the client under this one) before this one is closed: a test of
            // such a stop, on a host loaded enough that start-up outlasted half the stop's deadline, saw two WARNs.
            renewFailures.warn(LOG, System.currentTimeMillis(), "failed attempts", "redis connection not replaced yet: {}",
              ar.cause().getMessage());
          }
          replaced.fail(ar.cause());
        }
      });
      return replaced.future();
    }

    /**
     * A new connection for this line, opened from the event loop's own context: a connection keeps the context it was
     * opened from for all its callbacks, and the first caller on a loop is often a request, whose duplicated context
     * (its request id in every log line) must not outlive it.
     */
    private Future<RedisConnection> open() {
      Context current = Vertx.currentContext();
      if (!(current instanceof ContextInternal) || !((ContextInternal) current).isDuplicate()) {
        return lineClient.connect().andThen(MultiplexedRedis::coalesce);
      }
      ContextInternal base = ((ContextInternal) current).unwrap();
      Promise<RedisConnection> opened = base.promise();
      base.dispatch(() -> lineClient.connect().andThen(MultiplexedRedis::coalesce).onComplete(opened));
      return opened.future();
    }

    /**
     * When the server closes or resets {@code c}, it is replaced at once rather than at the next command's failure. A
     * reset (a server killed with requests unread) has every call waiting on {@code c} failed with its cause already;
     * without a handler of ours the client would also log it as an "Unhandled Error" with a stack trace.
     */
    private void watch(RedisConnection c) {
      c.endHandler(v -> lost(c));
      c.exceptionHandler(err -> lost(c));
    }

    /** Replaces this line's connection now, whenever it was last replaced; nothing more is sent on the old one. */
    private void renewNow() {
      RedisConnection c;
      synchronized (this) {
        if (current == null || !current.succeeded() || renewal != null) {
          return; // nothing to move, or a replacement is being built already
        }
        c = current.result();
        lastAttemptNanos = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(RENEW_INTERVAL_MS);
      }
      lost(c);
    }

    private void lost(RedisConnection c) {
      ended = c;
      renew(c);
    }

    /**
     * Whether a failure says the connection (not the command) is bad: anything that is not a Redis error reply,
     * except a timeout while other commands still succeed and a full queue; among replies only {@code READONLY}, which
     * a master demoted by Sentinel answers to writes.
     */
    private boolean broken(Throwable err) {
      if (err instanceof ErrorType) {
        return ((ErrorType) err).is("READONLY");
      }
      if (overloaded(err)) {
        return false;
      }
      if (err instanceof TimeoutException) {
        return System.nanoTime() - lastSuccessNanos > TimeUnit.MILLISECONDS.toNanos(timeoutMs);
      }
      return true;
    }

    private long sinceLastAttemptMs() {
      return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastAttemptNanos);
    }

    /** Completes once this line's connection, and a replacement being built, are settled and closed. */
    private Future<Void> close() {
      Future<RedisConnection> c;
      Future<RedisConnection> r;
      synchronized (this) {
        c = current;
        r = renewal;
        current = null;
      }
      // A replacement that completes after the close closes itself (see renew): only its outcome is waited for.
      Future<Void> replacement = r == null ? Future.succeededFuture() : r.<Void>mapEmpty().otherwiseEmpty();
      Future<Void> own = c == null ? Future.succeededFuture()
        : c.transform(ar -> ar.succeeded() ? ar.result().close().otherwiseEmpty() : Future.<Void>succeededFuture());
      return Future.join(own, replacement).mapEmpty();
    }
  }

  /**
   * The shared connection answers on its own context; the caller's continuation must run on the caller's (a
   * request's duplicated context carries request-scoped data such as the client charged for an upstream miss and
   * the request id, and verticles rely on their own thread).
   */
  private static <T> Future<T> onCallerContext(Future<T> result) {
    return onContext(Vertx.currentContext(), result);
  }

  /** {@code result}, completed on {@code caller} (as is when there is no caller context). */
  static <T> Future<T> onContext(Context caller, Future<T> result) {
    if (caller == null) {
      return result;
    }
    Promise<T> promise = ((ContextInternal) caller).promise();
    result.onComplete(promise);
    return promise.future();
  }

  /** A shared connection writes the commands of one event-loop turn together ({@link WriteCoalescing}). */
  private static void coalesce(AsyncResult<RedisConnection> opened) {
    if (opened.succeeded()) {
      WriteCoalescing.install(opened.result());
    }
  }

  private static Future<RedisConnection> connectionFailure() {
    return Future.failedFuture(VertxException.noStackTrace("redis connection not replaced yet"));
  }


  private <T> Future<T> dedicated(Function<RedisConnection, Future<T>> op, long blockMs) {
    long deadline = timeoutMs + blockMs;
    return onCallerContext(bounded(client.connect(), timeoutMs).compose(c -> {
      // A reset fails the call with its cause; left to the client, it would also be logged as an "Unhandled Error".
      c.exceptionHandler(err -> { });
      return RedisTimeoutException.within(op.apply(c), deadline).eventually(c::close);
    }));
  }


  /**
   * Whether a failure is the connection refusing more commands than {@code maxWaiting} in flight: back-pressure on a
   * healthy connection. Replacing the connection for it would fail every command in flight on the old one.
   */
  static boolean overloaded(Throwable err) {
    return !(err instanceof ErrorType) && err.getMessage() != null && err.getMessage().startsWith(QUEUE_FULL);
  }


  /** {@code connecting} within {@code ms}; a connection that arrives after the deadline is closed, not leaked. */
  private static Future<RedisConnection> bounded(Future<RedisConnection> connecting, long ms) {
    Future<RedisConnection> attempt = RedisTimeoutException.within(connecting, ms);
    connecting.onSuccess(c -> {
      if (attempt.failed()) {
        c.close();
      }
    });
    return attempt;
  }

  /** How long {@code requests} may block on the server in ms, together (0 when none of them blocks). */
  static long blockTimeMs(List<Request> requests) {
    long total = 0;
    for (Request r : requests) {
      String name = r.command().toString().toLowerCase();
      total += BLOCKING.contains(name) ? Math.max(0, blockMs(name, r)) : 0;
    }
    return total;
  }

  /**
   * The block time of a blocking command in ms: {@code BLOCK n} of {@code XREAD[GROUP]} (none: -1, not blocking),
   * the trailing seconds of the list and sorted-set pops, the timeout of {@code WAIT}; 0 means "for ever".
   */
  static long blockMs(String name, Request request) {
    List<byte[]> args = ((RequestImpl) request).getArgs();
    try {
      if (name.startsWith("xread")) {
        for (int i = 0; i + 1 < args.size(); i++) {
          if ("BLOCK".equalsIgnoreCase(new String(args.get(i), StandardCharsets.UTF_8))) {
            return Long.parseLong(new String(args.get(i + 1), StandardCharsets.UTF_8));
          }
        }
        return -1;
      }
      if (args.isEmpty()) {
        return -1;
      }
      if ("wait".equals(name)) {
        return Long.parseLong(new String(args.get(args.size() - 1), StandardCharsets.UTF_8));
      }
      int at = name.endsWith("mpop") ? 0 : args.size() - 1;
      if (name.equals("blmove")) {
        at = args.size() - 1;
      }
      double seconds = Double.parseDouble(new String(args.get(at), StandardCharsets.UTF_8));
      return (long) Math.ceil(seconds * 1000);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
