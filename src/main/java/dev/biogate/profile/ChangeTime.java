package dev.biogate.profile;

/**
 * When a webhook change was made, and which part of a profile it changes: the profile's own fields, or one link. A
 * write that carries one is refused for good when a newer change to the same part was written already, checked in the
 * same step as the write (redis/profile_write.lua), so two changes handled at the same moment end with the newer one
 * on every instance. {@link #NONE} (a change without a readable time) is applied as it comes.
 *
 * @param part the part changed ({@code profile}, {@code link:<id>}), {@code ""} for none
 * @param madeAtMs when the change was made, epoch ms
 */
public record ChangeTime(String part, long madeAtMs) {

  /** No time: the change is applied as it comes and ranks nothing. */
  public static final ChangeTime NONE = new ChangeTime("", -1);

  /** A change to the profile's own fields made at {@code madeAtMs} ({@link #NONE} when negative: unknown). */
  public static ChangeTime profile(long madeAtMs) {
    return madeAtMs < 0 ? NONE : new ChangeTime("profile", madeAtMs);
  }

  /** A change to link {@code linkId} made at {@code madeAtMs} ({@link #NONE} when either is unknown). */
  public static ChangeTime link(String linkId, long madeAtMs) {
    return madeAtMs < 0 || linkId == null ? NONE : new ChangeTime("link:" + linkId, madeAtMs);
  }

  boolean ordered() {
    return !part.isEmpty();
  }
}
