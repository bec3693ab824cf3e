package dev.biogate.redis;

import dev.biogate.config.RedisConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * What the Sentinels of a Sentinel deployment say about the master, asked of each of them directly.
 * <ul>
 *   <li>{@link #confirmsMaster(String, String)}: whether a server may be trusted alone with a write. During a failover
 *       the old master keeps taking writes until Sentinel turns it into a replica, which can be 10 s after the switch;
 *       its resync with the new master then discards them. A server that has lost its replica is therefore trusted
 *       only while a majority of the Sentinels answer and every one that answers names it as the master (by run id,
 *       or by address while it does not know the run id yet), neither seen down nor in a failover.</li>
 *   <li>{@link #onSwitch(Runnable)}: told at once when a Sentinel announces a new master ({@code +switch-master}),
 *       so that connections move over instead of writing to the old master until it drops them.</li>
 * </ul>
 * Every call has the command timeout; a Sentinel that does not answer counts as not confirming.
 */
public final class SentinelGroup {

  private static final Logger LOG = LoggerFactory.getLogger(SentinelGroup.class);
  private static final String SWITCH_CHANNEL = "+switch-master";
  private static final long RESUBSCRIBE_MS = 1_000;
  private static final long SAME_SWITCH_NANOS = TimeUnit.SECONDS.toNanos(30);
  /** Answers shared by the checks made together (every shard's sample asks about the same server). */
  private static final long SHARED_ANSWER_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final Vertx vertx;
  private final SentinelEndpoints endpoints;
  private final String masterName;
  private final long timeoutMs;
  /** A client for each Sentinel, by its endpoint. */
  private final Map<String, RenewingClient> sentinels = new LinkedHashMap<>();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final List<RedisConnection> subscriptions = new CopyOnWriteArrayList<>();
  private final ThrottledLog lostSubscription = new ThrottledLog();
  private volatile boolean closed;
  private volatile Confirmation last;
  private String lastSwitch;
  private long lastSwitchNanos;

  private record Confirmation(String runId, String address, long atNanos, Future<Standing> answer) {
  }

  public SentinelGroup(Vertx vertx, RedisConfig config) {
    this(vertx, config, new SentinelEndpoints(config.endpoints()));
  }

  /** A group whose announcements reorder {@code endpoints}: the announcer of a switch is asked first from then on. */
  public SentinelGroup(Vertx vertx, RedisConfig config, SentinelEndpoints endpoints) {
    this.vertx = vertx;
    this.endpoints = endpoints;
    this.masterName = config.masterName();
    this.timeoutMs = config.commandTimeoutMs();
    for (String endpoint : config.endpoints()) {
      if (sentinels.containsKey(endpoint)) {
        continue; // listed twice: one Sentinel, one vote
      }
      RedisOptions o = clientOptions(endpoint, config).setMaxPoolSize(2).setMaxPoolWaiting(64);
      sentinels.put(endpoint, new RenewingClient(vertx, () -> Redis.createClient(vertx, o)));
    }
  }

  /**
   * Options of a client of the Sentinel at {@code endpoint}: the configured password, as the Sentinel client of the
   * data connections sends it (a password in the endpoint's URL goes first), and the command timeout to connect.
   */
  static RedisOptions clientOptions(String endpoint, RedisConfig config) {
    RedisOptions o = new RedisOptions().setType(io.vertx.redis.client.RedisClientType.STANDALONE)
      .addConnectionString(endpoint).setNetClientOptions(new NetClientOptions()
        .setConnectTimeout((int) config.commandTimeoutMs()).setTcpNoDelay(true).setTcpKeepAlive(true));
    if (config.password() != null) {
      o.setPassword(config.password().reveal());
    }
    return o;
  }

  /**
   * Whether these Sentinels know the master name: {@code false} only when at least one of them answers and every one
   * that answers knows no master by that name (a setting that can never work). Sentinels that do not answer within
   * the command timeout tell nothing, so an unreachable group counts as knowing it.
   */
  public Future<Boolean> knowsMaster() {
    List<Future<Boolean>> answers = new ArrayList<>();
    for (RenewingClient sentinel : sentinels.values()) {
      answers.add(sentinel.send(Request.cmd(Command.SENTINEL).arg("GET-MASTER-ADDR-BY-NAME").arg(masterName))
        .timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .map(r -> r != null && r.size() > 0));
    }
    return Future.join(answers).transform(done -> {
      boolean answered = false;
      for (Future<Boolean> a : answers) {
        if (a.succeeded()) {
          answered = true;
          if (a.result()) {
            return Future.succeededFuture(true);
          }
        }
      }
      return Future.succeededFuture(!answered);
    });
  }

  /** Calls {@code listener} whenever a Sentinel announces a new address for this deployment's master. */
  public SentinelGroup onSwitch(Runnable listener) {
    listeners.add(listener);
    return this;
  }

  /** Subscribes to the switch announcements of every Sentinel (and again whenever a subscription is lost). */
  public void start() {
    sentinels.keySet().forEach(this::subscribe);
  }

  private void subscribe(String endpoint) {
    if (closed) {
      return;
    }
    sentinels.get(endpoint).connect().timeout(timeoutMs, TimeUnit.MILLISECONDS).compose(c -> {
      c.handler(msg -> announced(endpoint, msg));
      c.endHandler(v -> lost(endpoint, c));
      c.exceptionHandler(err -> lost(endpoint, c));
      return c.send(Request.cmd(Command.SUBSCRIBE).arg(SWITCH_CHANNEL)).timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .onSuccess(r -> {
          if (closed) {
            c.close();
          } else {
            subscriptions.add(c);
          }
        })
        .onFailure(err -> c.close());
    }).onFailure(err -> {
      lostSubscription.warn(LOG, System.currentTimeMillis(), "failures", "cannot watch a sentinel for master switches ({}); retrying",
        err.getMessage());
      vertx.setTimer(RESUBSCRIBE_MS, t -> subscribe(endpoint));
    });
  }

  private void lost(String endpoint, RedisConnection c) {
    if (subscriptions.remove(c) && !closed) {
      vertx.setTimer(RESUBSCRIBE_MS, t -> subscribe(endpoint));
    }
  }

  /** {@code ["message", "+switch-master", "<name> <old ip> <old port> <new ip> <new port>"]}. */
  private void announced(String endpoint, Response msg) {
    if (msg == null || msg.type() == ResponseType.ERROR || msg.size() != 3 || !"message".equals(msg.get(0).toString())) {
      return;
    }
    String payload = msg.get(2).toString();
    if (!payload.startsWith(masterName + " ")) {
      return;
    }
    // Every Sentinel announces the same switch: act on the first, which knows it already (the others may learn it
    // up to two seconds later), so master lookups ask that one first from now on.
    long now = System.nanoTime();
    synchronized (this) {
      if (payload.equals(lastSwitch) && now - lastSwitchNanos < SAME_SWITCH_NANOS) {
        return;
      }
      lastSwitch = payload;
      lastSwitchNanos = now;
    }
    endpoints.announcedBy(endpoint);
    LOG.info("sentinel announced a new master for {}: {}", masterName, payload.substring(masterName.length() + 1));
    listeners.forEach(Runnable::run);
  }

  /**
   * Whether the server with run id {@code runId}, reached at {@code address} ({@code ip:port} as that server saw the
   * connection, null if unknown), is the master as far as the Sentinels know: a majority of them answer, and each
   * that answers names it ({@link #names}), with no flag but {@code master} (no {@code s_down}, {@code o_down},
   * {@code failover_in_progress}, ...). False when it cannot be told.
   */
  public Future<Boolean> confirmsMaster(String runId, String address) {
    return standing(runId, address).map(Standing::confirmed);
  }

  /**
   * Whether a Sentinel that answers says the server is not the master now (it names another, or sees it down or in a
   * failover). Sentinels that do not answer deny nothing: a master whose replicas acknowledge its writes needs no
   * Sentinel to vouch for it, only none to say a failover has started (in a planned failover the old master keeps a
   * replica, the one not promoted, which acknowledges writes its resync with the new master then discards).
   */
  public Future<Boolean> deniesMaster(String runId, String address) {
    return standing(runId, address).map(Standing::denied);
  }

  /**
   * What the Sentinels say of a server: a majority of them names it as the master ({@code confirmed}), one that answers
   * does not ({@code denied}), or neither; and the most replicas any that answered knows of for the master
   * ({@code num-slaves}: those down included, as a Sentinel keeps a replica it has seen until it is reset).
   */
  public record Standing(boolean confirmed, boolean denied, int knownReplicas) {
    static final Standing UNKNOWN = new Standing(false, false, 0);
    static final Standing DENIED = new Standing(false, true, 0);
  }

  /** {@link Standing} of the server with run id {@code runId} reached at {@code address} (see {@link #confirmsMaster}). */
  public Future<Standing> standing(String runId, String address) {
    if (runId == null || runId.isEmpty()) {
      return Future.succeededFuture(Standing.UNKNOWN);
    }
    long now = System.nanoTime();
    Confirmation recent = last;
    if (recent != null && recent.runId.equals(runId) && Objects.equals(recent.address, address)
      && now - recent.atNanos < SHARED_ANSWER_NANOS) {
      return recent.answer;
    }
    Future<Standing> answer = ask(runId, address);
    last = new Confirmation(runId, address, now, answer);
    return answer;
  }

  private Future<Standing> ask(String runId, String address) {
    List<Future<Response>> answers = new ArrayList<>(sentinels.size());
    for (RenewingClient sentinel : sentinels.values()) {
      answers.add(sentinel.send(Request.cmd(Command.SENTINEL).arg("MASTER").arg(masterName))
        .timeout(timeoutMs, TimeUnit.MILLISECONDS));
    }
    return Future.join(answers).transform(ar -> {
      int answered = 0;
      int replicas = 0;
      for (Future<Response> a : answers) {
        if (a.succeeded()) {
          answered++;
          Response r = a.result();
          if (!names(name -> field(r, name), runId, address)) {
            return Future.succeededFuture(Standing.DENIED);
          }
          replicas = Math.max(replicas, RedisMode.count(field(r, "num-slaves")));
        }
      }
      return Future.succeededFuture(new Standing(answered > sentinels.size() / 2, false, replicas));
    });
  }

  /**
   * Whether one Sentinel's {@code SENTINEL MASTER} answer (its fields by name) names the server with run id
   * {@code runId}, reached at {@code address} ({@code ip:port} as the server saw the connection; null if unknown), as
   * the master, with no down or failover flag. By run id; or, when the answer has none, by address: a Sentinel that
   * has just switched resets the master's record and learns its run id only at its next {@code INFO} of it, seconds
   * later, while it already names it by the address it promoted.
   */
  static boolean names(Function<String, String> field, String runId, String address) {
    if (!"master".equals(field.apply("flags"))) {
      return false;
    }
    String known = field.apply("runid");
    if (known != null && !known.isEmpty()) {
      return known.equals(runId);
    }
    return address != null && address.equals(field.apply("ip") + ":" + field.apply("port"));
  }

  /** A field of a {@code SENTINEL MASTER} reply (a map in RESP3, names and values in turn in RESP2). */
  static String field(Response reply, String name) {
    if (reply == null || !reply.containsKey(name)) {
      return null;
    }
    Response v = reply.get(name);
    return v == null ? null : v.toString();
  }

  public Future<Void> close() {
    closed = true;
    subscriptions.forEach(RedisConnection::close);
    subscriptions.clear();
    List<Future<Void>> closing = new ArrayList<>();
    sentinels.values().forEach(s -> closing.add(s.close()));
    return Future.join(closing).<Void>mapEmpty().otherwiseEmpty();
  }
}
