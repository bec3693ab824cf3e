package dev.biogate.redis;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.types.ErrorType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Whether writes that must survive a failover (webhook deliveries, click batches) wait for a replica before they are
 * acknowledged: always ({@code on}), never ({@code off}), or ({@code auto}) while the Redis master holding the shard
 * (its events and clicks streams) reports a replica online, i.e. in sync ({@code INFO replication}, sampled every few
 * seconds, never per request). A lone Redis has nothing to wait for;
 * waiting there would only add latency.
 * <p>
 * Sampled per shard, not once: on Cluster the shards sit on different masters, and one master may lose its replica
 * while the others keep theirs. A single sample (of shard 0's master) would make every shard wait on a replica that
 * one master no longer has (each of its deliveries then answered 503 {@code not_replicated}), or none wait while the
 * others have one (answered 200 with no replica holding the delivery).
 * <p>
 * Under Sentinel a master without a replica is trusted alone only when the Sentinels confirm it is the master
 * ({@link SentinelGroup#confirmsMaster}). In a failover the replica is promoted first and the old master, left
 * without a replica, keeps taking writes until Sentinel demotes it (up to 10 s later); its resync then discards them.
 * Until confirmed, writes to it are refused at once ({@link #refuses}): deliveries are answered 503 and retried, click
 * batches are journaled; none is lost.
 * <p>
 * A write waits for every replica the master had online when it was last sampled ({@link #replicasToWait}), not for
 * one: with two replicas, a planned failover promotes one and the old master keeps the other for a second or so,
 * which acknowledged writes that its resync with the new master then discarded (a drill lost 9 of 3,110 deliveries
 * answered 200). The promoted replica leaves the old master at once, so a write waiting for both is refused, the
 * master sampled again, and while any Sentinel that answers names another master or a failover under way
 * ({@link SentinelGroup#deniesMaster}) its writes are refused at once, replicas or not.
 * <p>
 * A master that had a replica and has none in sync now (its replica died or is resyncing, or it is a replica just
 * promoted, before the old master has resynced from it) is not trusted alone at once: its writes are refused for up
 * to {@code holdMs} from the first sample that finds it so, and trusted alone only after that (a replica lost for good
 * must not stop deliveries for good). A drill lost 238 of 839 deliveries answered 200 without this: two failovers
 * 14 s apart and a kill of the master, each promoted master acknowledging alone while its only replica had not
 * finished resyncing. "Had a replica": this instance saw one behind the shard's master, the master lists one still
 * syncing, the master is a promoted replica ({@code second_repl_offset} set: the history it took over from its old
 * master), or (under Sentinel) the Sentinels know one; so an instance started after the loss, which saw nothing,
 * holds as well (a Cluster drill: a gateway started after a failover acknowledged deliveries alone on the promoted
 * master at once, and a second fault lost 75 of 450). The hold starts again when another server becomes the shard's
 * master.
 */
public final class ReplicaWatch {

  private static final Logger LOG = LoggerFactory.getLogger(ReplicaWatch.class);
  private static final long PERIOD_MS = 2_000;
  /** At most this many shards are sampled per period (in turn), so a large shard count costs no more. */
  static final int SHARDS_PER_SAMPLE = 64;
  static final long RECHECK_MS = 250;
  /** Rechecks asked for within this long of the first are sampled together (the shards of one server fail together). */
  static final long GATHER_MS = 20;
  private static final String INFO_SCRIPT = "return redis.call('INFO', 'replication') .. redis.call('INFO', 'server')";
  /** Per shard: the master has no replica and may be trusted alone. */
  private static final int ALONE = 0;
  /** Per shard: the master has a replica online. */
  private static final int REPLICATED = 1;
  /** Per shard: no replica, and Sentinel does not confirm the server as the master (a failover in progress?). */
  private static final int UNCONFIRMED = 2;
  /** Per shard: the master had a replica and has none in sync; writes are refused for up to {@code holdMs}. */
  private static final int HELD = 3;
  /**
   * Per shard: not sampled yet (its master could not be asked); writes wait for one replica. Taken for {@link #ALONE}
   * before, a shard whose master was dead when an instance started stayed "nothing to wait for", and once its replica
   * was promoted the instance acknowledged deliveries on it alone until its next look (a re-drill: 2-63 of 2,001 were
   * accepted again when re-sent after a second fault).
   */
  private static final int UNSAMPLED = 4;
  static final long DEFAULT_HOLD_MS = dev.biogate.config.WebhookOptions.DEFAULT_REPLICA_LOSS_HOLD_MS;

  private final Vertx vertx;
  private final Redis redis;
  private final String mode;
  /** Sentinel deployments only; null elsewhere. */
  private final SentinelGroup sentinels;
  private final AtomicIntegerArray replicated;
  /** Per index: the replicas online at the last sample. */
  private final AtomicIntegerArray online;
  /**
   * Per index: 1 once this instance has seen a replica behind its master, or any sign that it had one (a replica
   * syncing, a promoted master, one the Sentinels know).
   */
  private final AtomicIntegerArray seenReplica;
  /** Per index: since when (and on which server) its master has been without a replica in sync, or null. */
  private final AtomicReferenceArray<Alone> alone;
  private final long holdMs;
  /** All shards of a Sentinel deployment sit on one server: one line for them, not one per shard. */
  private final ThrottledLog unconfirmed = new ThrottledLog();
  /** Shards whose recheck was asked for and not yet run. */
  private final Set<Integer> rechecks = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean recheckScheduled = new AtomicBoolean();
  private volatile long lastRecheckNanos = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(RECHECK_MS);
  private final int shards;
  private final List<String> others;
  private int next;
  private long timer = -1;

  public ReplicaWatch(Vertx vertx, Redis redis, String mode, int shards) {
    this(vertx, redis, mode, shards, null, List.of(), DEFAULT_HOLD_MS);
  }

  /** A master's run id and when this instance first found it without a replica in sync (ms, monotonic). */
  private record Alone(String runId, long sinceMs) {
  }

  /**
   * {@code sentinels}: the deployment's Sentinels (Sentinel deployments), else null. {@code others}: keys outside the
   * webhook shards whose master is watched too (index {@code shards + i}, see {@link #indexOf}). {@code holdMs}: how
   * long writes to a master that lost its replica are refused before it is trusted alone ({@code auto}; 0: at once).
   */
  public ReplicaWatch(Vertx vertx, Redis redis, String mode, int shards, SentinelGroup sentinels, List<String> others,
                      long holdMs) {
    this.vertx = vertx;
    this.redis = redis;
    this.mode = mode;
    this.sentinels = sentinels;
    this.shards = shards;
    this.others = List.copyOf(others);
    this.replicated = new AtomicIntegerArray(shards + others.size());
    for (int i = 0; i < replicated.length(); i++) {
      replicated.set(i, UNSAMPLED);
    }
    this.online = new AtomicIntegerArray(shards + others.size());
    this.seenReplica = new AtomicIntegerArray(shards + others.size());
    this.alone = new AtomicReferenceArray<>(shards + others.size());
    this.holdMs = holdMs;
  }

  /**
   * The index under which the master of {@code key} is watched: one of the constructor's {@code others}, or a key
   * sharing one's hash tag (the same slot, so the same master).
   */
  public int indexOf(String key) {
    for (int i = 0; i < others.size(); i++) {
      if (hashTag(others.get(i)).equals(hashTag(key))) {
        return shards + i;
      }
    }
    throw new IllegalArgumentException("not watched: " + key);
  }

  /**
   * The watched index whose master serves {@code key} too: on a Cluster, the first shard (or other key) on the master
   * of {@code key}'s slot, -1 when none is watched there (or the topology is not known yet); on one server, shard 0.
   * For a write whose key is not watched itself (a webhook's route pin) but must be as durable as the shards' writes.
   */
  public int indexOnMasterOf(String key) {
    if (!(redis instanceof ClusterRedis)) {
      return 0;
    }
    ClusterRedis cluster = (ClusterRedis) redis;
    String master = cluster.masterOf(key);
    if (master == null) {
      return -1;
    }
    for (int i = 0; i < shards + others.size(); i++) {
      if (master.equals(cluster.masterOf(keyOf(i)))) {
        return i;
      }
    }
    return -1;
  }

  /** What Redis Cluster hashes: the text between the first braces when non-empty, else the whole key. */
  static String hashTag(String key) {
    int open = key.indexOf('{');
    int close = open < 0 ? -1 : key.indexOf('}', open + 1);
    return close > open + 1 ? key.substring(open + 1, close) : key;
  }

  private String keyOf(int index) {
    return index < shards ? RedisKeys.eventsShard(index) : others.get(index - shards);
  }

  private String name(int index) {
    return index < shards ? "shard " + index : others.get(index - shards);
  }

  /**
   * Whether a write to {@code shard} cannot be made durable now: under Sentinel, its server has no replica online and
   * the Sentinels do not confirm it as the master (a failover in progress, typically); or its master lost its replica
   * and is held (see the class comment). Callers refuse at once (a retryable 503, a journaled click batch) rather
   * than write where a replica wait can only fail and a failover may discard the write; each refusal asks for a fresh
   * sample.
   */
  public boolean cannotMakeDurable(int shard) {
    int state = replicated.get(shard);
    return !"off".equals(mode) && (state == UNCONFIRMED || state == HELD);
  }

  /**
   * How many webhook shards sit on a master that lost its replica and is held ({@link #cannotMakeDurable}): their
   * deliveries are answered 503 {@code not_replicated} until a replica is in sync again, for at most {@code holdMs}.
   */
  public int awaitingReplicaShards() {
    return count(HELD);
  }

  /**
   * How many webhook shards {@link #cannotMakeDurable} now: their deliveries are answered 503 {@code not_replicated}
   * (a failover in progress, typically) until a replica or the Sentinels vouch for their master.
   */
  public int unconfirmedShards() {
    return count(UNCONFIRMED);
  }

  private int count(int state) {
    if ("off".equals(mode)) {
      return 0;
    }
    int n = 0;
    for (int shard = 0; shard < shards; shard++) {
      if (replicated.get(shard) == state) {
        n++;
      }
    }
    return n;
  }

  /**
   * How many webhook shards sit on a master that had a replica (seen by this instance) and has none now: their
   * deliveries are acknowledged once that master alone holds them (a promoted replica before the old master rejoins,
   * a replica that died), so losing the master as well would lose them. Reported by /health and as a gauge; a
   * deployment that never had replicas counts none.
   */
  public int shardsWithoutTheirReplica() {
    int n = 0;
    for (int shard = 0; shard < shards; shard++) {
      if (replicated.get(shard) == ALONE && seenReplica.get(shard) == 1) {
        n++;
      }
    }
    return n;
  }

  /**
   * Whether a write to {@code shard} is to be refused without being tried ({@link #cannotMakeDurable}); a refusal asks
   * for a fresh sample, so the shard is served again as soon as a replica or the Sentinels vouch for its master.
   */
  public boolean refuses(int shard) {
    if (!cannotMakeDurable(shard)) {
      return false;
    }
    recheck(shard);
    return true;
  }

  /**
   * Whether a write to {@code shard} that waited for {@code wanted} replicas ({@link #replicasToWait}) reached fewer
   * ({@code acknowledged}: what {@code WAIT} answered); then the shard is sampled again, as after a failover its master
   * may have lost a replica to the promotion.
   */
  public boolean missed(int shard, long acknowledged, int wanted) {
    if (acknowledged >= Math.max(1, wanted)) {
      return false;
    }
    recheck(shard);
    return true;
  }

  /** How {@link #durably} fails when a write could not be made durable: refused at once, or no replica acknowledged. */
  public static final VertxException NOT_DURABLE = new NotDurableException("not made durable: no replica acknowledged in time");

  /**
   * Runs {@code script} (a write the caller is about to acknowledge) on the master watched at {@code index}: refused
   * at once while that master cannot make it durable ({@link #refuses}), else followed by {@code WAIT 1 waitMs} on
   * the same connection where it has a replica. Fails with {@link #NOT_DURABLE} when refused or when no replica
   * acknowledged in time (the write may then stand on the master alone); any other failure is the call's own.
   */
  public Future<Response> durably(int index, Redis redis, LuaScript script, List<String> keys, List<?> args, long waitMs) {
    if (refuses(index)) {
      return Future.failedFuture(NOT_DURABLE);
    }
    int wanted = replicasToWait(index);
    if (wanted == 0) {
      return script.run(redis, keys, args);
    }
    return script.runAndWait(redis, keys, args, wanted, waitMs)
      .compose(w -> missed(index, w.replicas(), wanted) ? Future.failedFuture(NOT_DURABLE) : Future.succeededFuture(w.reply()));
  }

  /**
   * {@link #durably}, failing with {@code notDurable} (the caller's API answer, {@code 503 not_replicated}) where it
   * would fail with {@link #NOT_DURABLE}.
   */
  public Future<Response> durably(int index, Redis redis, LuaScript script, List<String> keys, List<?> args, long waitMs,
                                  Throwable notDurable) {
    return durably(index, redis, script, keys, args, waitMs)
      .recover(err -> Future.failedFuture(err == NOT_DURABLE ? notDurable : err));
  }

  /** Whether writes to {@code shard} must wait for a replica before they are acknowledged. */
  public boolean waitForReplica(int shard) {
    return "on".equals(mode) || ("auto".equals(mode) && replicated.get(shard) != ALONE);
  }

  /**
   * How many replicas a write to {@code shard} waits for: every one its master had online at the last sample (at
   * least one), or 0 when writes there do not wait ({@link #waitForReplica}).
   */
  public int replicasToWait(int shard) {
    return waitForReplica(shard) ? Math.max(1, online.get(shard)) : 0;
  }

  /** Samples now (completing once known, or after a short wait) and every few seconds. */
  public Future<Void> start() {
    if (!"auto".equals(mode)) {
      return Future.succeededFuture();
    }
    timer = vertx.setPeriodic(PERIOD_MS, id -> sample());
    return sample().timeout(2, TimeUnit.SECONDS).otherwiseEmpty();
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /**
   * Samples {@code shard} again soon: when a wait found no replica, as after a failover (the promoted master has none
   * until the old one returns), or a write was refused, so the shard's state follows without waiting for the next
   * periodic sample. Shards asked for within {@value #GATHER_MS} ms of each other are sampled together and their change
   * logged in one line (every shard of a server learns of its failover at about the same time); at most one such
   * sample runs every {@value #RECHECK_MS} ms.
   */
  void recheck(int shard) {
    rechecks.add(shard);
    if (recheckScheduled.compareAndSet(false, true)) {
      long sinceLast = Math.max(0, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastRecheckNanos));
      vertx.setTimer(Math.max(GATHER_MS, RECHECK_MS - sinceLast), id -> runRechecks());
    }
  }

  private void runRechecks() {
    lastRecheckNanos = System.nanoTime();
    // Cleared first: a recheck asked for from now on schedules the next run, whether or not this one takes its shard.
    recheckScheduled.set(false);
    List<Integer> due = new ArrayList<>(rechecks);
    rechecks.removeAll(due);
    if (!due.isEmpty()) {
      sample(due).onFailure(err -> { });
    }
  }

  /** Samples the next {@value #SHARDS_PER_SAMPLE} shards (all of them with the default count). */
  Future<Void> sample() {
    int count = replicated.length();
    int n = Math.min(count, SHARDS_PER_SAMPLE);
    int from = next;
    next = (from + n) % count;
    List<Integer> due = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      due.add((from + i) % count);
    }
    return sample(due);
  }

  /**
   * Samples {@code due}, and when a state changed every other watched shard at once too: the master that changed (a
   * failover, a replica lost or back) usually holds other shards, which would otherwise learn of it one at a time, each
   * when a delivery of its own had waited {@code replicaWaitMs} for nothing, or at the next periodic sample.
   */
  private Future<Void> sample(List<Integer> due) {
    return changes(due).compose(changed -> {
      if (changed.isEmpty() || due.size() == replicated.length()) {
        return Future.succeededFuture(changed);
      }
      java.util.BitSet sampled = new java.util.BitSet(replicated.length());
      due.forEach(sampled::set);
      List<Integer> rest = new ArrayList<>(replicated.length() - due.size());
      for (int i = sampled.nextClearBit(0); i < replicated.length(); i = sampled.nextClearBit(i + 1)) {
        rest.add(i);
      }
      return changes(rest).map(more -> {
        more.forEach((now, list) -> changed.computeIfAbsent(now, k -> new ArrayList<>()).addAll(list));
        return changed;
      });
    }).map(changed -> {
      // One line per new state for the shards that changed together (a start, a failover), not one per shard.
      changed.forEach((now, list) -> {
        list.removeIf(index -> index >= shards); // other keys' changes are logged as they are recorded
        if (!list.isEmpty()) {
          log(now, list);
        }
      });
      return null;
    });
  }

  /** Samples {@code due} and records what it finds: the indexes whose state changed, by their new state. */
  private Future<Map<Integer, List<Integer>>> changes(List<Integer> due) {
    List<Future<Integer>> samples = new ArrayList<>(due.size());
    for (int shard : due) {
      samples.add(state(shard));
    }
    return Future.join(samples).transform(done -> {
      Map<Integer, List<Integer>> changed = new TreeMap<>();
      for (int i = 0; i < due.size(); i++) {
        Future<Integer> f = samples.get(i);
        if (f.succeeded() && changed(due.get(i), f.result())) {
          changed.computeIfAbsent(f.result(), k -> new ArrayList<>()).add(due.get(i));
        }
      }
      return Future.succeededFuture(changed);
    });
  }

  /** Records {@code now} as the shard's state; true when it differs from what was known (logged for other keys). */
  private boolean changed(int shard, int now) {
    if (now == REPLICATED) {
      seenReplica.set(shard, 1);
      alone.set(shard, null);
    }
    int before = replicated.getAndSet(shard, now);
    if (before == now || before == UNSAMPLED && now == ALONE) {
      // A first look finding no replica says nothing new: a server without one is what most starts see.
      return false;
    }
    if (shard >= shards) {
      // A watched key outside the shards (the outbound stream): its writes are not webhooks.
      LOG.info("the redis master of {} {}", name(shard), now == REPLICATED ? "has a replica: writes there wait for it"
        : now == ALONE ? "has no replica: writes there do not wait"
        : now == HELD ? "has no replica in sync (lost, or still taking its first copy): writes there are refused until"
          + " one is in sync, for at most " + holdMs + " ms"
        : "has no replica and the sentinels do not confirm it as the master (a failover?): writes there wait for a replica");
    }
    return true;
  }

  private void log(int now, List<Integer> list) {
    // "each of": the shards may live on several masters (a Cluster), each judged on its own.
    String which = list.size() == 1 ? "shard " + list.get(0) : "each of shards " + ranges(list);
    if (now == REPLICATED) {
      LOG.info("the redis master of {} has a replica: its webhooks are acknowledged once a replica holds them", which);
    } else if (now == ALONE) {
      LOG.info("the redis master of {} has no replica: its webhooks are acknowledged once the master holds them", which);
    } else if (now == HELD) {
      // Also seen at a start next to replicas still taking their first copy: "lost" read as a fault there.
      LOG.warn("the redis master of {} has no replica in sync (lost, or still taking its first copy): its webhooks are"
        + " answered 503 until one is in sync, for at most {} ms", which, holdMs);
    } else {
      unconfirmed.warn(LOG, System.currentTimeMillis(), "shards", "the redis server of {} has no replica and the"
        + " sentinels do not confirm it as the master (a failover?): its webhooks are answered 503 until a replica holds"
        + " them or the sentinels confirm it", which);
    }
  }

  /** Sorted shard numbers as ranges: {@code 0-3, 7, 9-10}. */
  static String ranges(List<Integer> shardList) {
    List<Integer> sorted = new ArrayList<>(shardList);
    Collections.sort(sorted);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < sorted.size(); i++) {
      int start = sorted.get(i);
      int end = start;
      while (i + 1 < sorted.size() && sorted.get(i + 1) == end + 1) {
        end = sorted.get(++i);
      }
      out.append(out.length() == 0 ? "" : ", ").append(start).append(start == end ? "" : "-" + end);
    }
    return out.toString();
  }

  private Future<Integer> state(int shard) {
    // INFO has no key: on Cluster it would land on any master. Run it from a script keyed like the shard's events
    // stream, so it is answered by the master that takes that shard's deliveries.
    Request info = Request.cmd(Command.EVAL).arg(INFO_SCRIPT).arg(1).arg(keyOf(shard));
    return infoAndAddress(info).compose(r -> {
      String text = r[0];
      String runId = RedisMode.field(text, "run_id");
      int replicas = onlineReplicas(text);
      online.set(shard, replicas);
      if (replicas > 0) {
        // Replicas or not, a master the Sentinels are failing over is losing its writes.
        return sentinels == null ? Future.succeededFuture(REPLICATED)
          : sentinels.deniesMaster(runId, r[1]).map(denied -> denied ? UNCONFIRMED : REPLICATED);
      }
      boolean hadReplica = seenReplica.get(shard) == 1 || attachedReplicas(text) > 0 || promoted(text);
      if (sentinels == null) {
        return Future.succeededFuture(aloneOrHeld(shard, runId, hadReplica));
      }
      return sentinels.standing(runId, r[1])
        .map(s -> s.confirmed() ? aloneOrHeld(shard, runId, hadReplica || s.knownReplicas() > 0) : UNCONFIRMED);
    });
  }

  /**
   * The state of a master with no replica in sync that may be trusted alone: {@link #HELD} when it had one and has
   * been without it less than {@code holdMs} (counted from the first sample that found this server so), else
   * {@link #ALONE}.
   */
  private int aloneOrHeld(int shard, String runId, boolean hadReplica) {
    if (hadReplica) {
      // Reported as a shard without its replica once trusted alone (shardsWithoutTheirReplica).
      seenReplica.set(shard, 1);
    }
    if (holdMs <= 0 || !hadReplica || !"auto".equals(mode)) {
      return ALONE;
    }
    long now = TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
    Alone since = alone.get(shard);
    if (since == null || !java.util.Objects.equals(since.runId, runId)) {
      since = new Alone(runId, now);
      alone.set(shard, since);
    }
    return now - since.sinceMs < holdMs ? HELD : ALONE;
  }

  /**
   * Replicas in {@code INFO replication} that are online ({@code slave<n>:...,state=online,...}). One still syncing
   * (a demoted master's full resync takes seconds) acknowledges nothing: waiting for it only turns deliveries away.
   */
  static int onlineReplicas(String info) {
    int online = 0;
    for (String line : info.split("\r?\n")) {
      if (line.startsWith("slave") && line.length() > 5 && Character.isDigit(line.charAt(5)) && line.contains(",state=online,")) {
        online++;
      }
    }
    return online;
  }

  /**
   * Whether {@code INFO replication} shows a promoted replica: {@code second_repl_offset} other than -1, the offset up
   * to which it shares its old master's history ({@code master_replid2}). A server that was never a replica, or was
   * restarted since, has -1.
   */
  static boolean promoted(String info) {
    String offset = RedisMode.field(info, "second_repl_offset");
    return offset != null && !offset.isEmpty() && !"-1".equals(offset);
  }

  /**
   * Replicas in {@code INFO replication} in any state ({@code connected_slaves}): one still syncing counts here, as a
   * replica the master is about to have again.
   */
  static int attachedReplicas(String info) {
    return RedisMode.count(RedisMode.field(info, "connected_slaves"));
  }

  /**
   * The {@code INFO} text and, under Sentinel, the address the server saw the connection arrive at ({@code laddr} of
   * {@code CLIENT INFO}, sent in the same pipeline so both come from one server), or null: a Sentinel that has just
   * switched names the new master by address only. A server without {@code CLIENT INFO} (before Redis 6.2) gives the
   * text alone.
   */
  private Future<String[]> infoAndAddress(Request info) {
    if (sentinels == null) {
      return redis.send(info).timeout(2, TimeUnit.SECONDS).map(r -> new String[] {r.toString(), null});
    }
    return redis.batch(List.of(info, Request.cmd(Command.CLIENT).arg("INFO"))).timeout(2, TimeUnit.SECONDS)
      .map(r -> new String[] {r.get(0).toString(), localAddress(r.get(1).toString())})
      .recover(err -> err instanceof ErrorType
        ? redis.send(info).timeout(2, TimeUnit.SECONDS).map(r -> new String[] {r.toString(), null})
        : Future.failedFuture(err));
  }

  /** The {@code laddr} field of a {@code CLIENT INFO} line, or null. */
  public static String localAddress(String clientInfo) {
    for (String f : clientInfo.trim().split(" ")) {
      if (f.startsWith("laddr=")) {
        return f.substring("laddr=".length());
      }
    }
    return null;
  }
}
