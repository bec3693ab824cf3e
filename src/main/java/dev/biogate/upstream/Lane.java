package dev.biogate.upstream;

/**
 * Why an upstream call is being made. The budget serves lanes by priority (see {@link LaneShares}): a reader of a
 * name the gateway has reason to know outranks a webhook-announced change, which outranks background revalidation;
 * a reader of a name never seen before gets only a bounded share, so nobody can spend the budget by asking for
 * random names.
 */
public enum Lane {
  /** A reader is waiting, nothing usable is cached, and the name is known (see {@link MissAdmission}). */
  FOREGROUND,
  /** A webhook announced a change, or a reader waits while holding an expired copy. */
  REFRESH,
  /** Stale-while-revalidate refresh; a copy is already being served. */
  BACKGROUND,
  /** A reader is waiting for a name the gateway has never seen: bounded share, per-client quota. */
  FIRST_SIGHT
}
