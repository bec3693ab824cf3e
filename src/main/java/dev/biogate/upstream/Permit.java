package dev.biogate.upstream;

/**
 * One granted upstream call. {@link #settle()} is called when the request has completed (whatever its outcome), so
 * the budget can count the call from the latest moment it may have reached the upstream.
 */
@FunctionalInterface
public interface Permit {

  Permit NONE = () -> { };

  void settle();
}
