package dev.biogate.stream;

import java.util.Objects;
import java.util.function.Function;
import java.util.function.IntSupplier;

/**
 * Everything an engine decides for one stream and consumer group: how much it holds, how it retries, when a
 * consumer counts as dead, where dead letters and history go. The stream key and group are parameters (a sharded
 * stream is one policy per shard). Every key the engine derives starts with the stream key, so it shares the
 * stream's hash tag (one Redis Cluster slot for all keys of a script): {@code <stream>:attempts:<group>},
 * {@code <stream>:consumers:<group>}, and by default {@code <stream>:dead:<group>}.
 */
public final class StreamPolicy {

  private final String stream;
  private final String group;
  private int maxHeld = 64;
  private long pollMs = 100;
  private long idlePollMaxMs;
  private long handlerTimeoutMs = 15_000;
  private int maxAttempts = 5;
  private long retryBaseMs = 1_000;
  private long retryMaxMs = 600_000;
  private long keepDelayMs = 1_000;
  private long heartbeatTtlMs = 3_000;
  private long idleClaimMs = 30_000;
  private int maxWaiting = -1;
  private int maxParked;
  private long maxParkedChars = Long.MAX_VALUE;
  private long reapIntervalMs = -1;
  private long trimIntervalMs = 1_000;
  private long commandTimeoutMs = 5_000;
  private IntSupplier confirmReplicas = () -> 0;
  private long confirmWaitMs;
  private Acked confirmAcked = (n, wanted) -> false;
  private String deadLetters;
  private long deadLetterCap = 1_000_000;
  private boolean soleReader;
  private Function<StreamEntry, String> history;
  private long historyTtlS = 7 * 86_400L;

  public StreamPolicy(String stream, String group) {
    this.stream = Objects.requireNonNull(stream);
    this.group = Objects.requireNonNull(group);
    this.deadLetters = stream + ":dead:" + group;
  }

  /** Entries handled or waiting for a retry at once; reading pauses while this many are held. */
  public StreamPolicy maxHeld(int n) { this.maxHeld = Math.max(1, n); return this; }
  /**
   * Entries held while they wait on their receivers ({@link Outcome#onReceiver}) at once, half of them at most on
   * one receiver; default {@code maxHeld}.
   * Past it, such an entry is set aside: let go of here while it stays pending under this consumer, untouched, so that
   * another instance takes it over once it has been idle for {@code idleClaimMs} and this one takes it back after
   * twice that (the reaper). The other slots stay free for entries that can be worked on: without this, one
   * destination that was down, paced or refusing filled every slot with its deliveries and no other was read.
   */
  public StreamPolicy maxWaiting(int n) { this.maxWaiting = Math.max(0, n); return this; }
  /** Entries parked on their receivers beyond {@code maxHeld} ({@link #maxParked()}); default 0. */
  public StreamPolicy maxParked(int n) { this.maxParked = Math.max(0, n); return this; }
  /** The characters of the entries parked at once ({@link StreamEntry#chars}); default unbounded. */
  public StreamPolicy maxParkedChars(long n) { this.maxParkedChars = Math.max(0, n); return this; }
  /** Pause between reads that found nothing. */
  public StreamPolicy pollMs(long ms) { this.pollMs = Math.max(1, ms); return this; }
  /**
   * After reads that found nothing the pause doubles, from {@code pollMs} up to this (0: it stays {@code pollMs}).
   * For streams whose writers in this process call {@link StreamEngine#wake()} after queueing: the local engine then
   * reads at once, and only entries another instance queued and left wait for the longer pause.
   */
  public StreamPolicy idlePollMaxMs(long ms) { this.idlePollMaxMs = Math.max(0, ms); return this; }
  public StreamPolicy handlerTimeoutMs(long ms) { this.handlerTimeoutMs = ms; return this; }
  /** Failed attempts (RETRY) before an entry is dead-lettered. */
  public StreamPolicy maxAttempts(int n) { this.maxAttempts = Math.max(1, n); return this; }
  /** Exponential backoff with jitter between failed attempts, from base up to max. */
  public StreamPolicy retry(long baseMs, long maxMs) { this.retryBaseMs = baseMs; this.retryMaxMs = Math.max(baseMs, maxMs); return this; }
  public StreamPolicy keepDelayMs(long ms) { this.keepDelayMs = ms; return this; }
  /** A consumer whose heartbeat is older than this is dead: its entries are claimed and it is removed. */
  public StreamPolicy heartbeatTtlMs(long ms) { this.heartbeatTtlMs = Math.max(100, ms); return this; }
  /**
   * An entry a live consumer keeps without attempting it (KEEP: its receiver is paused) for this long is taken
   * over by another consumer; entries being worked on are touched and never reach it.
   */
  public StreamPolicy idleClaimMs(long ms) { this.idleClaimMs = Math.max(100, ms); return this; }
  /** How often dead consumers and idle kept entries are looked for; by default a quarter of the heartbeat TTL. */
  public StreamPolicy reapIntervalMs(long ms) { this.reapIntervalMs = ms; return this; }
  public StreamPolicy trimIntervalMs(long ms) { this.trimIntervalMs = Math.max(10, ms); return this; }
  public StreamPolicy commandTimeoutMs(long ms) { this.commandTimeoutMs = ms; return this; }
  /**
   * Ownership confirmations wait for {@code replicas} replicas ({@code WAIT n waitMs} after the check, on its
   * connection; 0: no wait); {@code acked} hears how many answered of how many wanted, and says whether that fell
   * short. A confirmation that fell short fails (the handler keeps the entry): the check was made on a master that may
   * be losing its writes in a switch, where another instance, on the new master, can own the same entry.
   */
  public StreamPolicy durableConfirm(IntSupplier replicas, long waitMs, Acked acked) {
    this.confirmReplicas = replicas; this.confirmWaitMs = waitMs; this.confirmAcked = acked; return this;
  }

  /** Hears how many replicas acknowledged an ownership check of how many wanted; true when that fell short. */
  @FunctionalInterface
  public interface Acked {
    boolean fellShort(long acked, int wanted);
  }
  /**
   * The dead-letter stream (must share the stream's hash tag) and its ceiling. Dead letters are never trimmed: at the
   * ceiling an entry due for them stays pending in its stream and is tried again after the backoff (counted and
   * logged), so the stream's own backlog ceiling pushes back instead of anything accepted being dropped.
   */
  public StreamPolicy deadLetters(String key, long cap) { this.deadLetters = key; this.deadLetterCap = cap; return this; }
  /** This group is the stream's only reader: finished entries are deleted at once, so the stream holds only work. */
  public StreamPolicy soleReader(boolean sole) { this.soleReader = sole; return this; }
  /** Per-entry history hash ({@code null} for none) kept for {@code ttlS}: attempts, last error, outcome. */
  public StreamPolicy history(Function<StreamEntry, String> key, long ttlS) { this.history = key; this.historyTtlS = ttlS; return this; }

  public String stream() { return stream; }
  public String group() { return group; }
  public int maxHeld() { return maxHeld; }
  public long pollMs() { return pollMs; }
  public long idlePollMaxMs() { return Math.max(pollMs, idlePollMaxMs); }
  public long handlerTimeoutMs() { return handlerTimeoutMs; }
  public int maxAttempts() { return maxAttempts; }
  public long retryBaseMs() { return retryBaseMs; }
  public long retryMaxMs() { return retryMaxMs; }
  public long keepDelayMs() { return keepDelayMs; }
  public long heartbeatTtlMs() { return heartbeatTtlMs; }
  public long idleClaimMs() { return idleClaimMs; }
  public int maxWaiting() { return maxWaiting < 0 ? maxHeld : Math.min(maxWaiting, maxHeld); }

  /**
   * Entries that may wait {@link Outcome#park parked} on their receivers beyond {@link #maxHeld}: they hold no slot,
   * so the engine reads on past them; with this many parked (or {@link #maxParkedChars} of them), one more makes the
   * newest entry of the receiver whose oldest parked entry has waited longest give way (set aside, as a wait on its
   * receiver past {@link #maxWaiting} is), or is set aside itself if that is its own receiver, and the engine still
   * reads on. 0
   * (default): none, a park is an ordinary wait on the receiver.
   */
  public int maxParked() { return maxParked; }

  public long maxParkedChars() { return maxParkedChars; }
  public long reapIntervalMs() { return reapIntervalMs > 0 ? reapIntervalMs : Math.max(50, heartbeatTtlMs / 4); }
  public long trimIntervalMs() { return trimIntervalMs; }
  public long commandTimeoutMs() { return commandTimeoutMs; }
  /** Replicas an ownership check waits for now; 0: none. */
  public int confirmReplicas() { return confirmReplicas.getAsInt(); }
  public long confirmWaitMs() { return confirmWaitMs; }
  public boolean confirmFellShort(long acked, int wanted) { return confirmAcked.fellShort(acked, wanted); }
  public String deadLetters() { return deadLetters; }
  public long deadLetterCap() { return deadLetterCap; }
  public boolean soleReader() { return soleReader; }
  public long historyTtlS() { return historyTtlS; }

  String historyKey(StreamEntry e) {
    return history == null ? null : history.apply(e);
  }

  String attemptsKey() {
    return stream + ":attempts:" + group;
  }

  String consumersKey() {
    return stream + ":consumers:" + group;
  }
}
