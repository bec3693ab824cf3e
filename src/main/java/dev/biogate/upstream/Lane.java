package dev.biogate.upstream;

/**
 * Why an upstream call is being made, in priority order. The budget serves higher lanes first: a reader with
 * nothing cached outranks a webhook-announced change, which outranks background revalidation.
 */
public enum Lane {
  /** A reader is waiting and nothing usable is cached. */
  FOREGROUND,
  /** A webhook announced a change, or a reader waits while holding an expired copy. */
  REFRESH,
  /** Stale-while-revalidate refresh; a copy is already being served. */
  BACKGROUND
}
