package dev.biogate.links;

import dev.biogate.http.ApiException;
import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.RedisTimeoutException;
import dev.biogate.redis.ReplicaWatch;
import dev.biogate.redis.StreamReplies;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Link batch jobs in Redis (keys in {@link RedisKeys#job}): creation, the lease that makes one instance at a time
 * apply a job, the in-flight marker written before each upstream call, the per-operation results, and the progress
 * view. Every call has a timeout; the scripts are in {@code redis/job_*.lua}.
 */
final class LinkJobStore {

  static final long TTL_S = 7 * 86_400;
  static final int MAX_ACTIVE = 100;
  private static final long TIMEOUT_MS = 3_000;
  static final ApiException UNAVAILABLE = new ApiException(503, "unavailable", "redis is unavailable; retry later", 5);
  static final ApiException TOO_MANY = new ApiException(503, "too_many_jobs",
    "too many link batch jobs are running; retry when some have finished", 30);

  /** What a drain needs to (re)start: operations, results so far, and operations already called. */
  record Snapshot(String username, List<LinkOp> ops, Map<Integer, JsonObject> results) {
  }

  static final ApiException KEY_REUSED = new ApiException(409, "idempotency_key_reused",
    "this Idempotency-Key was sent with another batch for this creator");
  static final ApiException NOT_REPLICATED = ApiException.notReplicated("the job");

  private final Redis redis;
  private final ReplicaWatch replicas;
  private final int master;
  private final long replicaWaitMs;
  private final LuaScript create = LuaScript.load("job_create");
  private final LuaScript lease = LuaScript.load("job_lease");
  private final LuaScript mark = LuaScript.load("job_mark");
  private final LuaScript record = LuaScript.load("job_record");
  private final LuaScript finish = LuaScript.load("job_finish");
  private final LuaScript release = LuaScript.load("lock_release");

  /**
   * {@code replicas} says whether the master of the jobs' slot ({@link RedisKeys#JOBS_ACTIVE}, watched there) has a
   * replica to wait for, up to {@code replicaWaitMs}, before a job is acknowledged.
   */
  LinkJobStore(Redis redis, ReplicaWatch replicas, long replicaWaitMs) {
    this.redis = redis;
    this.replicas = replicas;
    this.master = replicas.indexOf(RedisKeys.JOBS_ACTIVE);
    this.replicaWaitMs = replicaWaitMs;
  }

  /**
   * Stores the job and lists it for every instance's runner in one step, made durable like a webhook delivery: where
   * the master has a replica, with {@code WAIT} before the caller answers 202. Fails with 503 otherwise.
   */
  Future<Void> create(String id, String username, String digest, List<LinkOp> ops, long nowMs) {
    List<String> args = new ArrayList<>(6 + ops.size());
    args.add(id);
    args.add(username);
    args.add(Long.toString(nowMs));
    args.add(Long.toString(TTL_S));
    args.add(Integer.toString(MAX_ACTIVE));
    args.add(digest);
    ops.forEach(o -> args.add(o.toJson().encode()));
    List<String> keys = List.of(RedisKeys.job(id), RedisKeys.jobOps(id), RedisKeys.JOBS_ACTIVE);
    return replicas.durably(master, redis, create, keys, args, replicaWaitMs)
      .timeout(TIMEOUT_MS + replicaWaitMs, TimeUnit.MILLISECONDS)
      // Not durable: the job may stand on the master (and run); a retry under the same Idempotency-Key finds it.
      .recover(err -> Future.failedFuture(err == ReplicaWatch.NOT_DURABLE ? NOT_REPLICATED : UNAVAILABLE))
      .compose(r -> {
        int created = r.toInteger();
        return created == -1 ? Future.failedFuture(TOO_MANY)
          : created == -3 ? Future.failedFuture(KEY_REUSED)
          : Future.<Void>succeededFuture(); // a count, or -2: a retry finding its job
      });
  }

  Future<List<String>> active() {
    return send(Request.cmd(Command.SMEMBERS).arg(RedisKeys.JOBS_ACTIVE)).map(r -> {
      List<String> ids = new ArrayList<>(r.size());
      r.forEach(x -> ids.add(x.toString()));
      return ids;
    });
  }

  /** 1 = held by {@code owner}, 0 = held by another instance, -1 = gone or done (then dropped from the active set). */
  Future<Integer> lease(String id, String owner, long leaseMs, long nowMs) {
    return timed(lease.run(redis, List.of(RedisKeys.jobLease(id), RedisKeys.job(id)),
        List.of(owner, Long.toString(leaseMs), Long.toString(nowMs))))
      .compose(r -> r.toInteger() >= 0 ? Future.succeededFuture(r.toInteger())
        : send(Request.cmd(Command.SREM).arg(RedisKeys.JOBS_ACTIVE).arg(id)).map(-1));
  }

  Future<Void> release(String id, String owner) {
    return timed(release.run(redis, List.of(RedisKeys.jobLease(id)), List.of(owner))).mapEmpty();
  }

  Future<Snapshot> snapshot(String id) {
    return Future.all(send(Request.cmd(Command.HGET).arg(RedisKeys.job(id)).arg("username")),
        send(Request.cmd(Command.HGETALL).arg(RedisKeys.jobOps(id))),
        send(Request.cmd(Command.HGETALL).arg(RedisKeys.jobResults(id))))
      .map(all -> {
        Response user = all.resultAt(0);
        Map<Integer, JsonObject> ops = indexed(all.resultAt(1));
        List<LinkOp> list = new ArrayList<>(ops.size());
        ops.values().forEach(o -> list.add(LinkOp.fromJson(o)));
        return user == null ? null : new Snapshot(user.toString(), list, indexed(all.resultAt(2)));
      });
  }

  /**
   * Marks operation {@code index} as called by {@code owner}; the result is {@code null} when the lease is lost or the
   * operation already has a result, else the owner that had already called for it ("" when none).
   */
  Future<String> mark(String id, String owner, int index) {
    return timed(mark.run(redis, List.of(RedisKeys.jobLease(id), RedisKeys.jobInflight(id), RedisKeys.jobResults(id)),
      List.of(owner, Integer.toString(index)))).map(r -> r.get(0).toInteger() == 1 ? r.get(1).toString() : null);
  }

  /** Records the outcome; {@code false} when fenced off (lease lost). */
  Future<Boolean> record(String id, String owner, int index, JsonObject result) {
    return timed(record.run(redis, List.of(RedisKeys.jobLease(id), RedisKeys.jobInflight(id), RedisKeys.jobResults(id),
        RedisKeys.job(id)), List.of(owner, Integer.toString(index), result.encode(), result.getString("status"), Long.toString(TTL_S))))
      .map(r -> r.toInteger() == 1);
  }

  Future<Boolean> finish(String id, String owner, long nowMs) {
    return timed(finish.run(redis, List.of(RedisKeys.jobLease(id), RedisKeys.job(id), RedisKeys.jobResults(id)),
        List.of(owner, Long.toString(nowMs))))
      .compose(r -> r.toInteger() == 1
        ? send(Request.cmd(Command.SREM).arg(RedisKeys.JOBS_ACTIVE).arg(id)).map(true) : Future.succeededFuture(false));
  }

  /** The progress view of {@code GET /admin/jobs/{id}}, or {@code null} for an unknown job. */
  Future<JsonObject> describe(String id) {
    return Future.all(List.of(send(Request.cmd(Command.HGETALL).arg(RedisKeys.job(id))),
        send(Request.cmd(Command.HGETALL).arg(RedisKeys.jobOps(id))),
        send(Request.cmd(Command.HGETALL).arg(RedisKeys.jobResults(id))),
        send(Request.cmd(Command.HGETALL).arg(RedisKeys.jobInflight(id)))))
      .recover(err -> Future.failedFuture(UNAVAILABLE))
      .map(all -> LinkJobView.of(StreamReplies.fields(all.resultAt(0)), indexed(all.resultAt(1)), indexed(all.resultAt(2)),
        StreamReplies.fields(all.resultAt(3))));
  }

  private static Map<Integer, JsonObject> indexed(Response hash) {
    Map<Integer, JsonObject> out = new TreeMap<>();
    StreamReplies.fields(hash).forEach((k, v) -> out.put(Integer.parseInt(k), new JsonObject(v)));
    return out;
  }

  private Future<Response> send(Request r) {
    return timed(redis.send(r));
  }

  private static Future<Response> timed(Future<Response> f) {
    return RedisTimeoutException.within(f, TIMEOUT_MS);
  }
}
