package dev.biogate.stream;

/**
 * How a {@link StreamHandler} finished with an entry. Every entry ends in exactly one of these:
 * <ul>
 *   <li>{@code DONE}: handled (or nothing to do); the entry is acknowledged;</li>
 *   <li>{@code RETRY}: a failed attempt; counted in Redis, tried again after the engine's backoff (or
 *       {@code afterMs}), dead-lettered after the policy's maximum attempts;</li>
 *   <li>{@code DEAD}: retrying cannot help (the receiver refused it); dead-lettered at once with the reason;</li>
 *   <li>{@code KEEP}: not attempted (the receiver is paused or over its rate); stays pending without counting an
 *       attempt and is offered again after {@code afterMs} (or the policy's keep delay).</li>
 * </ul>
 * Reasons are short and safe to store: never a payload, a URL or a secret.
 */
public final class Outcome {

  /** The four ends of an attempt. */
  public enum Kind { DONE, RETRY, DEAD, KEEP }

  private static final Outcome DONE = new Outcome(Kind.DONE, -1, null);
  private static final Outcome KEEP = new Outcome(Kind.KEEP, -1, null);

  private final Kind kind;
  private final long afterMs;
  private final String reason;

  private Outcome(Kind kind, long afterMs, String reason) {
    this.kind = kind;
    this.afterMs = afterMs;
    this.reason = reason;
  }

  public static Outcome done() {
    return DONE;
  }

  /** A failed attempt, retried after the engine's backoff. */
  public static Outcome retry(String reason) {
    return new Outcome(Kind.RETRY, -1, reason);
  }

  /** A failed attempt, retried after {@code afterMs} (the receiver said when). */
  public static Outcome retry(String reason, long afterMs) {
    return new Outcome(Kind.RETRY, Math.max(0, afterMs), reason);
  }

  public static Outcome dead(String reason) {
    return new Outcome(Kind.DEAD, -1, reason);
  }

  public static Outcome keep() {
    return KEEP;
  }

  public static Outcome keep(long afterMs) {
    return new Outcome(Kind.KEEP, Math.max(0, afterMs), null);
  }

  public Kind kind() {
    return kind;
  }

  /** When to offer the entry again; {@code -1} = the policy decides. */
  public long afterMs() {
    return afterMs;
  }

  public String reason() {
    return reason;
  }

  @Override
  public String toString() {
    return reason == null ? kind.name() : kind + "(" + reason + ")";
  }
}
