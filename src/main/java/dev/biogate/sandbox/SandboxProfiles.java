package dev.biogate.sandbox;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The profiles the simulated API serves, keyed by username. Starts with the demo profiles
 * ({@code demo}: 25 links, {@code alice}: 12, {@code bob}: 3) and returns to them on {@link #reset()}.
 * Thread-safe; profiles are immutable.
 */
public final class SandboxProfiles {

  /** The username whose profile {@code GET /me} returns. */
  public static final String OWN_USERNAME = "demo";

  private final Map<String, SandboxProfile> byUsername = new HashMap<>();

  public SandboxProfiles() {
    reset();
  }

  public synchronized Optional<SandboxProfile> get(String username) {
    return Optional.ofNullable(byUsername.get(username));
  }

  /** The profile holding the link with this id. */
  public synchronized Optional<SandboxProfile> owner(String linkId) {
    return byUsername.values().stream().filter(p -> p.links().stream().anyMatch(l -> l.id().equals(linkId))).findFirst();
  }

  /** Creates or replaces the profile under its username. */
  public synchronized void put(SandboxProfile profile) {
    byUsername.put(profile.username(), profile);
  }

  /** Drops every profile and restores the demo ones. */
  public synchronized void reset() {
    byUsername.clear();
    SandboxDemoData.profiles().forEach(p -> byUsername.put(p.username(), p));
  }
}
