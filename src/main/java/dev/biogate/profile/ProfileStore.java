package dev.biogate.profile;

import dev.biogate.redis.LuaScript;
import dev.biogate.redis.RedisClients;
import dev.biogate.redis.RedisErrors;
import dev.biogate.redis.RedisKeys;
import dev.biogate.redis.RedisTimeoutException;
import dev.biogate.redis.ReplicaWatch;
import dev.biogate.redis.Shards;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * L2: copies shared by every instance through Redis, each with the version of the write that made it, plus the
 * short per-profile fetch lock that makes one instance fetch while the others wait for its copy.
 * <p>
 * Every write goes through redis/profile_write.lua, which refuses a copy whose writer read an older version than
 * the current one, or a webhook change older than one already written to the same part of the profile, and tells
 * every instance to drop older L1 copies. The lock is an optimisation (one upstream call per change, cluster-wide),
 * never what keeps a copy correct. Every call fails after {@value #TIMEOUT_MS} ms.
 */
public final class ProfileStore {

  /** What one L2 read found: the copy ({@code null} if none) and the profile's current version (0 if none). */
  public record Shared(CachedProfile copy, long version) {
  }

  /** Why a copy is written: each kind is one mode of the write script (purges go through {@link #purge}). */
  enum Write { FETCH, PATCH }

  /** Returned by a write the script refused: a newer write happened since the writer read the version. */
  static final long REFUSED = -1;
  /** Returned by a webhook write the script refused for good: a newer change to the same part was written already. */
  static final long OLDER = -2;
  /**
   * How long the times of the changes written to a profile are kept: past Linktree's 72-hour retry horizon, so that
   * no retry of an older change can outlive the memory of a newer one.
   */
  static final long CHANGE_MEMORY_MS = 96L * 3_600_000L;

  static final long TIMEOUT_MS = 1_000;
  private static final String DROP_PREFIX = "drop:";
  /** How long a version outlives the longest-lived copy: longer than any fetch or patch can take. */
  private static final long VERSION_MARGIN_MS = 600_000;
  /**
   * The link-owner index is split over a fixed number of hashes, by link id, so that no single key (and no single
   * master) takes every profile write. Fixed rather than configured: every instance must agree, and the index needs
   * no tuning (it is one small hash field per link).
   */
  private static final Shards LINK_SHARDS = new Shards(Shards.DEFAULT_COUNT);
  /**
   * The link-owner index is written in periods (a copy's retention, at least this long): each period's hashes expire
   * once the next period has ended, and a lookup reads the current and the previous one. An owner recorded at t is
   * found until t + one period at least, longer than the copy written with it lives; every later write of that copy
   * records it again. One hash per shard for all time used to keep every link id of every profile ever cached.
   */
  static final long MIN_OWNER_PERIOD_MS = 3_600_000L;
  /** Past the end of the period after its own, so a lookup at that end still finds the hash. */
  private static final long OWNER_EXPIRY_MARGIN_MS = 60_000L;

  private final Redis redis;
  private final Freshness freshness;
  /** Names this instance's writes in invalidation messages. */
  private final String writer;
  private final long ownerPeriodMs;
  private final long versionTtlMs;
  private final String channel;
  private final Redis replicaReads;
  private final Durability durability;
  private final LuaScript write = LuaScript.load("profile_write");
  private final LuaScript unlock = LuaScript.load("lock_release");

  /** Writes through {@code redis}, telling other instances on {@code channel} ({@link RedisKeys#invalidateChannel}). */
  public ProfileStore(Redis redis, Freshness freshness, String channel) {
    this(redis, null, freshness, channel, Durability.NONE);
  }

  /**
   * How webhook changes are made durable: as {@code watch} says for the master of the profile's key (refused while
   * that master cannot make them durable, else waiting up to {@code waitMs} for its replicas, none once it is trusted
   * alone: {@link ReplicaWatch#durably}); {@code null}: not waited for. A change is written on one master and its event
   * acknowledged on another (on a Cluster), so a change the failover of its master discards must not be acknowledged.
   * The profile's own master decides: decided by shard 0's, a change to a profile whose master had lost its replica
   * waited for one for as long as it was gone (a Cluster drill: its events stayed pending until the replica returned),
   * and one whose master kept its replica while shard 0's was alone would not have waited at all.
   */
  public record Durability(ReplicaWatch watch, long waitMs) {
    public static final Durability NONE = new Durability(null, 0);
  }

  /**
   * Like {@link #ProfileStore(Redis, Freshness, String)}; shared copies are read from {@code replicaReads} (null: none)
   * when {@code redis} cannot answer ({@link RedisClients#replicaReads}), and webhook changes are made durable as
   * {@code durability} says.
   */
  public ProfileStore(Redis redis, Redis replicaReads, Freshness freshness, String channel, Durability durability) {
    this.redis = redis;
    this.durability = durability;
    this.replicaReads = replicaReads;
    this.channel = channel;
    this.freshness = freshness;
    this.writer = UUID.randomUUID().toString();
    this.versionTtlMs = freshness.retentionMs() + VERSION_MARGIN_MS;
    this.ownerPeriodMs = Math.max(MIN_OWNER_PERIOD_MS, freshness.retentionMs());
  }

  /** The shared copy and version, read together (both keys share the profile's slot). */
  public Future<Shared> get(String username) {
    return send(read(username))
      .recover(err -> replicaReads == null || !RedisErrors.unavailable(err)
        ? Future.failedFuture(err)
        // The master does not answer: a replica's copy (perhaps a little behind) rather than none.
        : RedisTimeoutException.within(replicaReads.send(read(username)), TIMEOUT_MS).recover(e -> Future.failedFuture(err)))
      .map(r -> {
        long version = r.get(1) == null ? 0 : r.get(1).toLong();
        CachedProfile copy = r.get(0) == null ? null : ProfileCodec.decode(username, r.get(0).toBuffer());
        return new Shared(copy == null ? null : copy.withVersion(version), version);
      });
  }

  /**
   * Writes {@code copy} if the profile's version is still {@code readVersion}; completes with the copy stamped with
   * its new version, or {@code null} when refused. Accepted copies with links also record which username owns each
   * link (link webhooks name only the link; best effort: the copy is written either way).
   */
  public Future<CachedProfile> put(Write kind, CachedProfile copy, long readVersion, long nowMs) {
    return write(kind, copy, readVersion, nowMs, List.of()).map(Written::stored);
  }

  /**
   * What a write did: {@link #stored} the copy with its new version, else refused; {@link #older} names the changes
   * (their places in the list written) refused for good, nothing written: the others may be written again.
   */
  record Written(CachedProfile stored, List<Integer> older) {
    static final Written REFUSED = new Written(null, List.of());
  }

  /**
   * Like {@link #put}, for webhook changes made at {@code at}, in order: refused (nothing written) when a newer change
   * to the same part of the profile as any of them was written already, naming those in {@link Written#older} (for
   * good, whatever the version); else refused when the version moved since {@code readVersion} (read again and retry),
   * or written, recording each time with the copy.
   */
  Future<Written> write(Write kind, CachedProfile copy, long readVersion, long nowMs, List<ChangeTime> at) {
    return run(copy.username(), List.of(kind.name().toLowerCase(Locale.ROOT), Long.toString(readVersion),
      ProfileCodec.encode(copy), Long.toString(freshness.remainingMs(copy, nowMs))), writer, at, kind == Write.PATCH)
      .compose(r -> !r.older().isEmpty() ? Future.succeededFuture(new Written(null, r.older()))
        : r.version() == REFUSED ? Future.succeededFuture(Written.REFUSED)
        : indexLinks(copy, nowMs).otherwiseEmpty().map(new Written(copy.withVersion(r.version()), List.of())));
  }

  /**
   * Deletes the copy and moves the version (a tombstone no older fetch can beat); completes with the new version.
   * Other instances keep their older L1 copies as outdated ones, served only if the upstream fails.
   */
  public Future<Long> tombstone(String username) {
    return tombstone(username, ChangeTime.NONE);
  }

  /** {@link #tombstone} for a webhook change made at {@code at}: {@link #OLDER} (nothing written) if a newer one was. */
  Future<Long> tombstone(String username, ChangeTime at) {
    return tombstone(username, List.of(at)).map(r -> r.older().isEmpty() ? r.version() : OLDER);
  }

  /**
   * {@link #tombstone} for webhook changes made at {@code at}: nothing written when a newer change to the same part as
   * any of them was, which {@link Ran#older} names.
   */
  Future<Ran> tombstone(String username, List<ChangeTime> at) {
    return run(username, List.of("purge", "0", "", "1"), writer, at, true);
  }

  /** Like {@link #tombstone}, and every instance drops its older L1 copy (an operator's purge). */
  public Future<Long> purge(String username) {
    return run(username, List.of("purge", "0", "", "1"), DROP_PREFIX + writer, List.of(), false).map(Ran::version);
  }

  /**
   * Whether an invalidation message's first word asks instances to drop their older copies rather than keep them
   * outdated. The mark lives in the writer word, which instances that do not know it ignore (they drop either way).
   */
  public static boolean dropsCopies(String writerWord) {
    return writerWord.startsWith(DROP_PREFIX);
  }

  /**
   * Webhook changes ({@code durable}) wait for a replica like the deliveries that carry them: the event is
   * acknowledged once its change is written, and a change a failover discarded (the master gone before replicating it)
   * was lost with its change time, so nothing applied it again (a deleted link came back on every instance). Not made
   * durable, the write fails as Redis unavailable and the event is handled again (the change is applied again, or
   * skipped as older). Fetches need no wait: a lost one is fetched again.
   */
  private Future<Ran> run(String username, List<Object> args, String writerWord, List<ChangeTime> at, boolean durable) {
    List<Object> all = new ArrayList<>(args.size() + 4 + 2 * at.size());
    all.addAll(args);
    all.add(Long.toString(versionTtlMs));
    all.add(channel);
    all.add(writerWord + " " + username);
    all.add(Long.toString(CHANGE_MEMORY_MS));
    // Only changes with a time are ordered; the script names the others' pairs by number, mapped back here.
    int[] sent = new int[at.size()];
    int pairs = 0;
    for (int i = 0; i < at.size(); i++) {
      if (at.get(i).ordered()) {
        all.add(at.get(i).part());
        all.add(Long.toString(at.get(i).madeAtMs()));
        sent[pairs++] = i;
      }
    }
    List<String> keys = List.of(RedisKeys.profile(username), RedisKeys.profileVersion(username), RedisKeys.profileChanges(username));
    ReplicaWatch watch = durable ? durability.watch() : null;
    Future<Response> written = watch == null ? RedisTimeoutException.within(write.run(redis, keys, all), TIMEOUT_MS)
      : RedisTimeoutException.within(durably(watch, keys, all), TIMEOUT_MS + durability.waitMs());
    return written
      .map(r -> {
        int status = r.get(0).toInteger();
        if (status != 2) {
          return new Ran(status == 1 ? r.get(1).toLong() : REFUSED, List.of());
        }
        List<Integer> older = new ArrayList<>(r.size() - 2);
        for (int i = 2; i < r.size(); i++) {
          older.add(sent[r.get(i).toInteger() - 1]);
        }
        return new Ran(OLDER, older);
      });
  }

  /**
   * The write, made durable as the watch says for the master of the profile's key; where that master is not watched
   * (a Cluster's topology not known yet, or a master holding no webhook shard), waiting for one replica if shard 0's
   * master waits for any.
   */
  private Future<Response> durably(ReplicaWatch watch, List<String> keys, List<Object> args) {
    int index = watch.indexOnMasterOf(keys.get(0));
    if (index >= 0) {
      return watch.durably(index, redis, write, keys, args, durability.waitMs());
    }
    int replicas = Math.min(1, watch.replicasToWait(0));
    return replicas == 0 ? write.run(redis, keys, args)
      : write.runAndWait(redis, keys, args, replicas, durability.waitMs())
        .compose(w -> w.replicas() < replicas ? Future.failedFuture(ReplicaWatch.NOT_DURABLE) : Future.succeededFuture(w.reply()));
  }

  /**
   * What the write script answered: the new version ({@link #REFUSED} when the version had moved, {@link #OLDER} when
   * some of the changes were older than ones written already: {@code older}, their places in the list written).
   */
  record Ran(long version, List<Integer> older) {
  }

  private Future<Void> indexLinks(CachedProfile p, long nowMs) {
    if (!p.found()) {
      return Future.succeededFuture();
    }
    JsonArray links = p.decode().getJsonArray("links");
    if (links == null || links.isEmpty()) {
      return Future.succeededFuture();
    }
    // One hash per shard (tagged per link id) and period: a profile's links spread over the shards, one HSET per shard
    // touched, and the expiry of that hash (the same instant from every writer of the period).
    long period = Math.floorDiv(nowMs, ownerPeriodMs);
    long expiresAt = (period + 2) * ownerPeriodMs + OWNER_EXPIRY_MARGIN_MS;
    Map<Integer, Request> byShard = new HashMap<>();
    for (int i = 0; i < links.size(); i++) {
      String linkId = links.getJsonObject(i).getString("id");
      int shard = LINK_SHARDS.ofName(linkId);
      byShard.computeIfAbsent(shard, s -> Request.cmd(Command.HSET).arg(RedisKeys.linkOwners(s, period))).arg(linkId).arg(p.username());
    }
    List<Future<Response>> writes = new ArrayList<>(byShard.size() * 2);
    byShard.forEach((shard, hset) -> {
      writes.add(send(hset));
      writes.add(send(Request.cmd(Command.PEXPIREAT).arg(RedisKeys.linkOwners(shard, period)).arg(expiresAt)));
    });
    return Future.all(writes).mapEmpty();
  }

  /** The username whose copy recorded this link id within the last period or two ({@code null}: none did). */
  public Future<String> ownerOfLink(String linkId, long nowMs) {
    int shard = LINK_SHARDS.ofName(linkId);
    long period = Math.floorDiv(nowMs, ownerPeriodMs);
    Future<Response> current = send(Request.cmd(Command.HGET).arg(RedisKeys.linkOwners(shard, period)).arg(linkId));
    Future<Response> previous = send(Request.cmd(Command.HGET).arg(RedisKeys.linkOwners(shard, period - 1)).arg(linkId));
    return Future.all(current, previous).map(both -> {
      Response r = current.result() != null ? current.result() : previous.result();
      return r == null ? null : r.toString();
    });
  }

  /** {@code SET NX PX}: true when this caller now holds the fetch lock; fails (never "true") on a Redis error. */
  public Future<Boolean> tryLock(String username, String token, long ttlMs) {
    return send(Request.cmd(Command.SET).arg(RedisKeys.fetchLock(username)).arg(token).arg("NX").arg("PX").arg(ttlMs))
      .map(r -> r != null && "OK".equals(r.toString()));
  }

  /** The version of the profile's shared copy (0 if none was ever written, or it expired). */
  public Future<Long> version(String username) {
    return send(Request.cmd(Command.GET).arg(RedisKeys.profileVersion(username))).map(r -> r == null ? 0L : r.toLong());
  }

  public Future<Void> unlock(String username, String token) {
    return RedisTimeoutException.within(unlock.run(redis, List.of(RedisKeys.fetchLock(username)), List.of(token)), TIMEOUT_MS).mapEmpty();
  }

  private static Request read(String username) {
    return Request.cmd(Command.MGET).arg(RedisKeys.profile(username)).arg(RedisKeys.profileVersion(username));
  }

  private Future<Response> send(Request request) {
    return RedisTimeoutException.within(redis.send(request), TIMEOUT_MS);
  }
}
