package dev.biogate.stream;

import java.util.List;

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
 * A RETRY or KEEP whose wait is its receiver's own ({@link #onReceiver}: one destination down, paced or refusing)
 * may be set aside by the engine rather than hold one of its slots through the wait (see
 * {@link StreamPolicy#maxWaiting}). A KEEP that {@link #park parks} waits for its receiver to finish one of the
 * attempts it has under way, outside the engine's slots.
 * Reasons and notes are short and safe to store: never a payload, a URL or a secret.
 */
public final class Outcome {

  /** The four ends of an attempt. */
  public enum Kind { DONE, RETRY, DEAD, KEEP }

  private static final Outcome DONE = new Outcome(Kind.DONE, -1, null, List.of(), null);
  private static final Outcome KEEP = new Outcome(Kind.KEEP, -1, null, List.of(), null);

  private final Kind kind;
  private final long afterMs;
  private final String reason;
  private final List<String> notes;
  private final String receiver;
  private final boolean parks;

  private Outcome(Kind kind, long afterMs, String reason, List<String> notes, String receiver) {
    this(kind, afterMs, reason, notes, receiver, false);
  }

  private Outcome(Kind kind, long afterMs, String reason, List<String> notes, String receiver, boolean parks) {
    this.kind = kind;
    this.afterMs = afterMs;
    this.reason = reason;
    this.notes = notes;
    this.receiver = receiver;
    this.parks = parks;
  }

  /**
   * Not attempted: {@code receiver} has as many attempts under way as it may have at once. A KEEP that waits outside
   * the engine's slots until the handler says the receiver finished one ({@link StreamHandler#onReceiverFree}), then
   * offered again at once, first of that receiver's; it neither holds a slot through the wait nor is set aside while
   * its receiver keeps finishing attempts (see {@link StreamPolicy#maxParked}).
   */
  public static Outcome park(String receiver) {
    return new Outcome(Kind.KEEP, -1, null, List.of(), java.util.Objects.requireNonNull(receiver), true);
  }

  /** Whether this KEEP waits for its receiver to finish an attempt ({@link #park}). */
  public boolean parks() {
    return parks;
  }

  public static Outcome done() {
    return DONE;
  }

  /**
   * Handled, with what the handler did as field/value pairs ({@code handler}, {@code result}, ...) for the entry's
   * history: written by the acknowledgement itself, in the same atomic step as {@code outcome=handled}, so no extra
   * round trip and never a handled entry without them.
   */
  public static Outcome done(List<String> notes) {
    if (notes.size() % 2 != 0) {
      throw new IllegalArgumentException("notes are field/value pairs");
    }
    return notes.isEmpty() ? DONE : new Outcome(Kind.DONE, -1, null, List.copyOf(notes), null);
  }

  /** A failed attempt, retried after the engine's backoff. */
  public static Outcome retry(String reason) {
    return new Outcome(Kind.RETRY, -1, reason, List.of(), null);
  }

  /** A failed attempt, retried after {@code afterMs} (the receiver said when). */
  public static Outcome retry(String reason, long afterMs) {
    return new Outcome(Kind.RETRY, Math.max(0, afterMs), reason, List.of(), null);
  }

  public static Outcome dead(String reason) {
    return new Outcome(Kind.DEAD, -1, reason, List.of(), null);
  }

  public static Outcome keep() {
    return KEEP;
  }

  public static Outcome keep(long afterMs) {
    return new Outcome(Kind.KEEP, Math.max(0, afterMs), null, List.of(), null);
  }

  /**
   * This RETRY or KEEP, its wait being {@code receiver}'s own (the one destination it goes to is down, paced or refused
   * it), not Redis's nor the engine's: past {@link StreamPolicy#maxWaiting} such waits at once, or half of them on one
   * receiver, the engine sets the entry aside instead of holding one of its slots, so one receiver's trouble cannot
   * take every slot.
   */
  public Outcome onReceiver(String receiver) {
    if (kind != Kind.RETRY && kind != Kind.KEEP) {
      throw new IllegalStateException("only a RETRY or a KEEP waits");
    }
    return new Outcome(kind, afterMs, reason, notes, java.util.Objects.requireNonNull(receiver));
  }

  /** The receiver the wait after this outcome is on ({@link #onReceiver}); null when the wait is not a receiver's. */
  public String receiver() {
    return receiver;
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

  /** A DONE outcome's history notes (field/value pairs); empty for none. */
  public List<String> notes() {
    return notes;
  }

  @Override
  public String toString() {
    return reason == null ? kind.name() : kind + "(" + reason + ")";
  }
}
