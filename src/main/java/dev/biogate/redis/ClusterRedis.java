package dev.biogate.redis;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.types.ErrorType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Redis Cluster, routed by slot here: one {@link MultiplexedRedis} per master (never a connection to a replica),
 * each command sent to the master of its first key's slot, the topology read with {@code CLUSTER SLOTS} from a known
 * master (or, when none answers, a seed).
 * <p>
 * Why not vertx-redis-client's Cluster mode: its connection reaches every node at once, and rebuilding it fails
 * ("Failed to connect to all nodes") for as long as the topology still lists a dead node, so one dead master stopped
 * the commands of every slot until the cluster had forgotten it. Here a dead master only fails its own slots, fast.
 * <p>
 * Promises, on top of those of {@link MultiplexedRedis} (deadline per call, reply on the caller's context, blocking
 * commands on a connection of their own, {@link #connect()} for subscriptions):
 * <ul>
 *   <li>commands for the slots of live masters keep working while another master is dead;</li>
 *   <li>commands for a dead master's slots fail (within the deadline) until a replica is promoted; every such failure,
 *       and every {@code MOVED} or {@code CLUSTERDOWN}, asks for the topology again, at most every
 *       {@value #REFRESH_INTERVAL_MS} ms, so the promoted master is used within one interval of any node reporting it;</li>
 *   <li>{@code MOVED} is followed at once (the command was not run), {@code ASK} with {@code ASKING} on the target, and
 *       {@code TRYAGAIN} (a slot migration split the command's keys; it was not run) sends the command again after a
 *       short pause, within the deadline; a pipeline of a script and {@code WAIT} is redirected the same way;</li>
 *   <li>keyless commands ({@code PING}, {@code INFO}, {@code SCRIPT ...}) go to a master that last answered; a pipeline
 *       goes whole to the master of its first key (the gateway's pipelines keep one hash tag; {@code WAIT} in it thus
 *       waits for that master's replicas).</li>
 * </ul>
 */
public final class ClusterRedis implements Redis {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterRedis.class);
  static final long REFRESH_INTERVAL_MS = 250;
  private static final int MAX_REDIRECTS = 3;
  private static final long TRY_AGAIN_FIRST_PAUSE_MS = 10;
  private static final long TRY_AGAIN_MAX_PAUSE_MS = 200;
  /** Bounds the pipeline retries besides the deadline (the pauses alone reach it after about eight). */
  private static final int TRY_AGAIN_ATTEMPTS = 12;

  private final Vertx vertx;
  private final RedisOptions template;
  private final List<String> seeds;
  private final long timeoutMs;
  private final Object lock = new Object();
  private final Map<String, Node> nodes = new HashMap<>();
  private volatile ClusterTopology topology = ClusterTopology.EMPTY;
  private Future<ClusterTopology> refreshing;
  private long lastRefreshNanos;
  private int cursor;
  private long pollTimer = -1;
  private volatile boolean closed;
  /**
   * The context node clients are created from, never a verticle's: Vert.x closes the clients created inside a
   * verticle when it is undeployed, and a node first reached from an HTTP verticle (after a failover moved its slots)
   * was closed when the listeners stopped, before the gateway was done with it.
   */
  private final ContextInternal home;

  /** {@code template}: the options every node connection is built from (password, pool, TCP settings). */
  public ClusterRedis(Vertx vertx, RedisOptions template, long commandTimeoutMs) {
    this.vertx = vertx;
    this.template = template;
    this.seeds = List.copyOf(template.getEndpoints());
    this.timeoutMs = commandTimeoutMs;
    this.home = ((VertxInternal) vertx).createEventLoopContext();
  }

  /** Reads the topology and connects to every master now, so the first requests do not pay for it. */
  public Future<Void> warmUp() {
    return refresh().compose(t -> {
      List<Future<Void>> up = new ArrayList<>();
      for (String m : t.masters()) {
        up.add(node(m).redis.warmUp());
      }
      return Future.join(up).<Void>mapEmpty();
    });
  }

  /** The master serving {@code key}'s slot in the topology known now ({@code host:port}), or null. */
  public String masterOf(String key) {
    return topology.master(ClusterTopology.slot(key));
  }

  @Override
  public Future<Response> send(Request request) {
    Context caller = Vertx.currentContext();
    int slot = ClusterTopology.slot(request);
    long deadline = timeoutMs + MultiplexedRedis.blockTimeMs(List.of(request));
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(deadline);
    Future<Response> sent = route(slot, n -> n.send(request), request, 0)
      .recover(err -> tryAgain(err, slot, n -> n.send(request), request, until, 0));
    return MultiplexedRedis.onContext(caller, RedisTimeoutException.within(sent, deadline));
  }

  @Override
  public Future<List<Response>> batch(List<Request> requests) {
    Context caller = Vertx.currentContext();
    int slot = ClusterTopology.slot(requests);
    long deadline = timeoutMs + MultiplexedRedis.blockTimeMs(requests);
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(deadline);
    Future<List<Response>> sent = route(slot, n -> n.batch(requests), null, 0)
      .recover(err -> redirectScriptAndWait(err, slot, requests, until, 0));
    return MultiplexedRedis.onContext(caller, RedisTimeoutException.within(sent, deadline));
  }

  /**
   * What {@code /health} reports for the Cluster: every master of the topology asked {@code INFO memory} and
   * {@code CLUSTER INFO} at once (within the command timeout). A single {@code PING} went to a master that last
   * answered, so health stayed green while a dead master's slots refused every write; and a master answers
   * {@code INFO} while its own view of the Cluster is {@code cluster_state:fail}, refusing its slots with
   * {@code CLUSTERDOWN} (each node of a restarted Cluster leaves that state on its own schedule, up to a second apart),
   * and while it loads its data, refusing them with {@code LOADING}.
   * Completes with {@code masters}, {@code unreachable} and {@code clusterDown} (their addresses), {@code uncoveredSlots},
   * and {@code maxmemoryUsedPercent} of the fullest master when any has a ceiling; it never fails. A master that has
   * not answered within {@code answerMs} (at most the command timeout) counts as unreachable: a health probe must not
   * wait out the command timeout behind a frozen master (a drill: readiness probes took 2.06 s on every instance).
   */
  public Future<JsonObject> health(long answerMs) {
    long waitMs = Math.min(answerMs, timeoutMs);
    return ready().compose(t -> {
      List<String> masters = t.masters();
      List<Future<Response>> pings = new ArrayList<>();
      List<Future<Response>> states = new ArrayList<>();
      for (String m : masters) {
        Redis master = node(m).redis;
        // INFO memory: an answer says the master is up, and how near its maxmemory it is.
        pings.add(master.send(Request.cmd(Command.INFO).arg("memory")).timeout(waitMs, TimeUnit.MILLISECONDS));
        states.add(master.send(Request.cmd(Command.CLUSTER).arg("INFO")).timeout(waitMs, TimeUnit.MILLISECONDS));
      }
      return Future.join(Future.join(pings), Future.join(states)).transform(ar -> {
        JsonArray unreachable = new JsonArray();
        JsonArray clusterDown = new JsonArray();
        int fullest = -1;
        for (int i = 0; i < masters.size(); i++) {
          Future<Response> answer = pings.get(i);
          if (answer.succeeded()) {
            fullest = Math.max(fullest, RedisMemory.usedPercent(String.valueOf(answer.result())));
          } else if (RedisErrors.code(answer.cause()) == null) {
            unreachable.add(masters.get(i)); // an error reply (INFO refused) is still an answer
            continue;
          }
          // Only a state the master reports counts: CLUSTER INFO refused (some managed services) says nothing. A master
          // still loading its data answers INFO but refuses CLUSTER INFO (and every data command) with LOADING.
          Future<Response> state = states.get(i);
          if (state.succeeded() ? clusterFailing(String.valueOf(state.result())) : RedisErrors.loading(state.cause())) {
            clusterDown.add(masters.get(i));
          }
        }
        if (!unreachable.isEmpty() || !clusterDown.isEmpty()) {
          refresh();
        }
        JsonObject health = new JsonObject().put("masters", masters.size())
          .put("unreachable", unreachable).put("clusterDown", clusterDown).put("uncoveredSlots", t.uncovered());
        return Future.succeededFuture(fullest >= 0 ? health.put("maxmemoryUsedPercent", fullest) : health);
      });
    }).otherwise(err -> new JsonObject().put("masters", 0).put("unreachable", new JsonArray())
      .put("clusterDown", new JsonArray()).put("uncoveredSlots", ClusterTopology.SLOTS));
  }

  /** Whether a {@code CLUSTER INFO} reply says the node refuses its slots: {@code cluster_state} other than {@code ok}. */
  static boolean clusterFailing(String clusterInfo) {
    String state = RedisMode.field(clusterInfo, "cluster_state");
    return state != null && !"ok".equals(state);
  }

  /**
   * A view of this client that reads from replicas: each command goes to a replica of its first key's slot (chosen at
   * random among those listed), after {@code READONLY} on the same connection (a replica otherwise redirects every
   * keyed command to its master), within the command timeout. For reads while a slot's master does not answer (frozen,
   * or dead and not yet replaced): a copy perhaps a little behind rather than none. Fails when no replica is known.
   * Closing the view closes nothing: the replicas' connections are this client's.
   */
  public Redis replicaReads() {
    ClusterRedis cluster = this;
    return new Redis() {
      @Override
      public Future<Response> send(Request request) {
        return cluster.sendToReplica(request);
      }

      @Override
      public Future<List<Response>> batch(List<Request> requests) {
        return Future.failedFuture("replica reads are single commands");
      }

      @Override
      public Future<RedisConnection> connect() {
        return Future.failedFuture("replica reads have no dedicated connections");
      }

      @Override
      public Future<Void> close() {
        return Future.succeededFuture();
      }
    };
  }

  private Future<Response> sendToReplica(Request request) {
    Context caller = Vertx.currentContext();
    int slot = ClusterTopology.slot(request);
    List<String> replicas = slot < 0 ? List.of() : topology.replicas(slot);
    if (replicas.isEmpty()) {
      return Future.failedFuture(VertxException.noStackTrace("no replica known for slot " + slot));
    }
    String replica = replicas.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(replicas.size()));
    Future<Response> sent = node(replica).redis.batch(List.of(Request.cmd(Command.READONLY), request)).map(r -> r.get(1));
    return MultiplexedRedis.onContext(caller, RedisTimeoutException.within(sent, timeoutMs));
  }

  /** A dedicated connection (subscriptions): to a master that last answered. Channels are cluster-wide. */
  @Override
  public Future<RedisConnection> connect() {
    Context caller = Vertx.currentContext();
    return MultiplexedRedis.onContext(caller, ready().compose(t -> anyMaster(t).redis.connect())
      .timeout(timeoutMs, TimeUnit.MILLISECONDS));
  }

  @Override
  public Future<Void> close() {
    List<Node> all;
    synchronized (lock) {
      closed = true;
      if (pollTimer >= 0) {
        vertx.cancelTimer(pollTimer);
      }
      all = new ArrayList<>(nodes.values());
      nodes.clear();
    }
    List<Future<Void>> closing = new ArrayList<>();
    all.forEach(n -> closing.add(n.redis.close()));
    return Future.join(closing).mapEmpty();
  }

  /**
   * Runs {@code op} on the master of {@code slot} (any master for -1), following redirections. {@code single} is the
   * command when {@code op} sends one (an {@code ASK} is answered by sending it after {@code ASKING}).
   */
  private <T> Future<T> route(int slot, Function<Redis, Future<T>> op, Request single, int redirects) {
    return ready().compose(t -> {
      Node node;
      if (slot < 0) {
        node = anyMaster(t);
      } else {
        String address = t.master(slot);
        if (address == null) {
          refresh();
          return Future.failedFuture(VertxException.noStackTrace("no Redis master serves slot " + slot));
        }
        node = node(address);
      }
      return op.apply(node.redis).andThen(ar -> observe(node, ar.failed() ? ar.cause() : null))
        .recover(err -> redirect(err, slot, op, single, redirects));
    });
  }

  private <T> Future<T> redirect(Throwable err, int slot, Function<Redis, Future<T>> op, Request single, int redirects) {
    if (!(err instanceof ErrorType) || redirects >= MAX_REDIRECTS) {
      return Future.failedFuture(err);
    }
    ErrorType reply = (ErrorType) err;
    boolean moved = reply.is("MOVED");
    if (!moved && !reply.is("ASK")) {
      return Future.failedFuture(err);
    }
    // "MOVED <slot> <host>:<port>": the command did not run; the slot is served by that node from now on.
    String[] parts = String.valueOf(reply.getMessage()).split(" ");
    if (parts.length < 3) {
      return Future.failedFuture(err);
    }
    int target = Integer.parseInt(parts[1]);
    String address = parts[2];
    if (moved) {
      synchronized (lock) {
        topology = topology.moved(target, address);
      }
      refresh();
      return route(slot, op, single, redirects + 1);
    }
    if (single == null) {
      return Future.failedFuture(err);
    }
    // ASK: a one-off redirection while the slot migrates; ASKING and the command must share one connection.
    @SuppressWarnings("unchecked")
    Future<T> asked = (Future<T>) node(address).redis.batch(List.of(Request.cmd(Command.ASKING), single))
      .map(replies -> replies.get(1)).recover(e -> Future.failedFuture(askedReply(e)));
    return asked;
  }

  /**
   * A pipeline of one command followed only by {@code WAIT}s (a script, then the wait for its replica) whose command
   * was redirected or refused for a migrating slot: the {@code WAIT}s change nothing, so the pipeline is handled as the
   * command alone would be. {@code MOVED} is followed, {@code ASK} sends it on to the target after {@code ASKING}, and
   * {@code TRYAGAIN} sends it again shortly, within the deadline. Any other pipeline may have run in part: its failure
   * is the caller's.
   */
  private Future<List<Response>> redirectScriptAndWait(Throwable err, int slot, List<Request> requests, long untilNanos,
                                                       int attempt) {
    String reply = onlyFailure(err, 0);
    boolean waitsOnly = requests.size() > 1 && requests.subList(1, requests.size()).stream().allMatch(r -> r.command() == Command.WAIT);
    if (reply == null || !waitsOnly || attempt >= MAX_REDIRECTS + TRY_AGAIN_ATTEMPTS) {
      return Future.failedFuture(err);
    }
    String[] parts = reply.split(" ");
    if ((reply.startsWith("MOVED ") || reply.startsWith("ASK ")) && parts.length >= 3) {
      String address = parts[2];
      if (reply.startsWith("MOVED ")) {
        synchronized (lock) {
          topology = topology.moved(Integer.parseInt(parts[1]), address);
        }
        refresh();
        return route(slot, n -> n.batch(requests), null, 0)
          .recover(next -> redirectScriptAndWait(next, slot, requests, untilNanos, attempt + 1));
      }
      List<Request> asked = new ArrayList<>(requests.size() + 1);
      asked.add(Request.cmd(Command.ASKING));
      asked.addAll(requests);
      return node(address).redis.batch(asked).map(replies -> replies.subList(1, replies.size()))
        .recover(next -> {
          String inner = onlyFailure(next, 1);
          // Past the deadline the call fails as what Redis said last (TRYAGAIN), not as the ASK it followed.
          return inner != null && inner.startsWith("TRYAGAIN")
            ? pauseThen(attempt, untilNanos, ErrorType.create(inner), () -> route(slot, n -> n.batch(requests), null, 0)
                .recover(again -> redirectScriptAndWait(again, slot, requests, untilNanos, attempt + 1)))
            : Future.failedFuture(next);
        });
    }
    if (reply.startsWith("TRYAGAIN")) {
      return pauseThen(attempt, untilNanos, err, () -> route(slot, n -> n.batch(requests), null, 0)
        .recover(next -> redirectScriptAndWait(next, slot, requests, untilNanos, attempt + 1)));
    }
    return Future.failedFuture(err);
  }

  /** {@code next} after the pause for the {@code attempt}-th {@code TRYAGAIN}, unless that passes the deadline. */
  private <T> Future<T> pauseThen(int attempt, long untilNanos, Throwable err, Supplier<Future<T>> next) {
    long pauseMs = Math.min(TRY_AGAIN_MAX_PAUSE_MS, TRY_AGAIN_FIRST_PAUSE_MS << Math.min(attempt, 10));
    if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(pauseMs) - untilNanos >= 0) {
      return Future.failedFuture(err);
    }
    return vertx.timer(pauseMs).compose(t -> next.get());
  }

  /** The error reply of the pipeline's command at {@code index} when it is the pipeline's only failure, else null. */
  private static String onlyFailure(Throwable err, int index) {
    String prefix = "ERR [" + index + "] ";
    String m = err instanceof ErrorType ? err.getMessage() : null;
    return m != null && m.startsWith(prefix) && m.indexOf('\n') < 0 ? m.substring(prefix.length()) : null;
  }

  /**
   * The command's own error reply out of the pipeline's failure ("ERR [1] TRYAGAIN ..." when the target of an
   * {@code ASK} holds only some of the command's keys), so that it is handled as if the command had been sent alone.
   */
  private static Throwable askedReply(Throwable err) {
    String reply = onlyFailure(err, 1);
    return reply == null ? err : ErrorType.create(reply);
  }

  /**
   * {@code TRYAGAIN}: a command whose keys a slot migration has split between two nodes. Redis did not run it, so it is
   * sent again after a short pause (the keys of a slot move in moments), until the call's deadline; the caller then
   * pushes back as for any Redis failure. Only single commands: a pipeline may have run in part.
   */
  private <T> Future<T> tryAgain(Throwable err, int slot, Function<Redis, Future<T>> op, Request single, long untilNanos,
                                 int attempt) {
    if (!(err instanceof ErrorType) || !((ErrorType) err).is("TRYAGAIN")) {
      return Future.failedFuture(err);
    }
    return pauseThen(attempt, untilNanos, err, () -> route(slot, op, single, 0)
      .recover(next -> tryAgain(next, slot, op, single, untilNanos, attempt + 1)));
  }

  /** A failure that says the node (not the command) is in trouble marks it, and asks for the topology again. */
  private void observe(Node node, Throwable err) {
    if (err == null) {
      node.failing = false;
      return;
    }
    // An error reply still says the node answers; so does a full queue (too many commands at once).
    node.failing = !(err instanceof ErrorType) && !MultiplexedRedis.overloaded(err);
    if (node.failing || ((ErrorType) err).is("CLUSTERDOWN")) {
      refresh();
    }
  }

  /** The topology, read first if there is none yet. */
  private Future<ClusterTopology> ready() {
    if (closed) {
      return Future.failedFuture(VertxException.noStackTrace("redis client closed"));
    }
    ClusterTopology t = topology;
    if (!t.isEmpty()) {
      return Future.succeededFuture(t);
    }
    return refresh().compose(fresh -> fresh.isEmpty()
      ? Future.failedFuture(VertxException.noStackTrace("no Redis Cluster node answered CLUSTER SLOTS"))
      : Future.succeededFuture(fresh));
  }

  /**
   * Reads the topology again unless that was done less than {@value #REFRESH_INTERVAL_MS} ms ago (then the last
   * attempt is returned); masters that left are closed once their in-flight commands had their time.
   */
  private Future<ClusterTopology> refresh() {
    List<String> candidates;
    Promise<ClusterTopology> done;
    synchronized (lock) {
      if (closed) {
        return Future.failedFuture(VertxException.noStackTrace("redis client closed"));
      }
      if (refreshing != null && (!refreshing.isComplete()
        || System.nanoTime() - lastRefreshNanos < TimeUnit.MILLISECONDS.toNanos(REFRESH_INTERVAL_MS))) {
        return refreshing;
      }
      lastRefreshNanos = System.nanoTime();
      candidates = new ArrayList<>();
      topology.masters().stream().filter(m -> !nodeFailing(m)).forEach(candidates::add);
      topology.masters().stream().filter(this::nodeFailing).forEach(candidates::add);
      done = Promise.promise();
      refreshing = done.future();
    }
    readSlots(candidates, 0).map(this::apply).onComplete(done).onComplete(ar -> pollWhileFailing());
    return done.future();
  }

  /**
   * While a master in the topology fails, the topology is read again every {@value #REFRESH_INTERVAL_MS} ms even if no
   * command asks: the first command after a quiet spell then finds the promoted replica, not the dead master.
   */
  private void pollWhileFailing() {
    synchronized (lock) {
      if (closed || pollTimer >= 0 || topology.masters().stream().noneMatch(this::nodeFailing)) {
        return;
      }
      // On the client's own context: a timer set from a verticle's is cancelled with it, and pollTimer never cleared.
      pollTimer = home.setTimer(REFRESH_INTERVAL_MS, id -> {
        synchronized (lock) {
          pollTimer = -1;
        }
        refresh();
      });
    }
  }

  private boolean nodeFailing(String address) {
    Node n = nodes.get(address);
    return n != null && n.failing;
  }

  /** {@code CLUSTER SLOTS} from the first known master that answers, else from the first seed that does. */
  private Future<ClusterTopology> readSlots(List<String> masters, int i) {
    if (i < masters.size()) {
      String address = masters.get(i);
      return node(address).redis.send(Request.cmd(Command.CLUSTER).arg("SLOTS"))
        .map(reply -> ClusterTopology.parse(reply, host(address)))
        .recover(err -> readSlots(masters, i + 1));
    }
    return readSeed(i - masters.size(), null);
  }

  /** A seed may be a replica: it is asked over a connection of its own, closed right after. */
  private Future<ClusterTopology> readSeed(int i, Throwable last) {
    if (i >= seeds.size()) {
      return Future.failedFuture(last != null ? last : VertxException.noStackTrace("no Redis Cluster seed"));
    }
    String seed = seeds.get(i);
    Redis once = Redis.createClient(vertx, nodeOptions(seed));
    return once.connect().timeout(timeoutMs, TimeUnit.MILLISECONDS)
      .compose(c -> c.send(Request.cmd(Command.CLUSTER).arg("SLOTS")).timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .eventually(c::close))
      .map(reply -> ClusterTopology.parse(reply, URI.create(seed).getHost()))
      .eventually(once::close)
      .recover(err -> readSeed(i + 1, err));
  }

  private ClusterTopology apply(ClusterTopology fresh) {
    List<Node> gone = new ArrayList<>();
    synchronized (lock) {
      if (closed || fresh.isEmpty() || fresh.sameAs(topology)) {
        return topology;
      }
      LOG.info("redis cluster topology: {}", fresh);
      topology = fresh;
      nodes.entrySet().removeIf(e -> {
        if (!fresh.masters().contains(e.getKey())) {
          gone.add(e.getValue());
          return true;
        }
        return false;
      });
    }
    gone.forEach(n -> home.setTimer(timeoutMs, t -> n.redis.close()));
    fresh.masters().forEach(m -> node(m).redis.warmUp());
    return fresh;
  }

  /** A master that last answered, taken in turn; any master when none did. */
  private Node anyMaster(ClusterTopology t) {
    List<String> masters = t.masters();
    synchronized (lock) {
      for (int k = 0; k < masters.size(); k++) {
        String m = masters.get(Math.floorMod(cursor + k, masters.size()));
        if (!nodeFailing(m)) {
          cursor = Math.floorMod(cursor + k + 1, masters.size());
          return node(m);
        }
      }
      cursor++;
      return node(masters.get(Math.floorMod(cursor, masters.size())));
    }
  }

  private Node node(String address) {
    synchronized (lock) {
      if (closed) {
        // A command routed after close (a stopping engine's last call) must not open a node nobody closes.
        throw VertxException.noStackTrace("redis client closed");
      }
      return nodes.computeIfAbsent(address, a -> {
        MultiplexedRedis[] made = new MultiplexedRedis[1];
        home.dispatch(() -> made[0] = MultiplexedRedis.create(vertx, nodeOptions(url(a)), timeoutMs));
        return new Node(made[0]);
      });
    }
  }

  private RedisOptions nodeOptions(String url) {
    // A pool of its own per node (the copied options would otherwise carry the template's pool name).
    return new RedisOptions(template).setType(RedisClientType.STANDALONE).setEndpoints(List.of(url))
      .setPoolName(UUID.randomUUID().toString());
  }

  /** A node's URL: the first seed's scheme and credentials, the node's address. */
  private String url(String address) {
    URI first = URI.create(seeds.get(0));
    String user = first.getRawUserInfo() == null ? "" : first.getRawUserInfo() + "@";
    return first.getScheme() + "://" + user + address;
  }

  private static String host(String address) {
    return address.substring(0, address.lastIndexOf(':'));
  }

  private static final class Node {
    final MultiplexedRedis redis;
    volatile boolean failing;

    Node(MultiplexedRedis redis) {
      this.redis = redis;
    }
  }
}
