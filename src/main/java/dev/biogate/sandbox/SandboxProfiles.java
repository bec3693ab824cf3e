package dev.biogate.sandbox;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The profiles the simulated API serves, keyed by username. Starts with the demo profiles
 * ({@code demo}: 25 links, {@code alice}: 12, {@code bob}: 3) and returns to them on {@link #reset()}.
 * With {@code syntheticProfiles} &gt; 0 it also serves {@code synth-0} … {@code synth-<n-1>}, generated on each
 * request (nothing is stored, so a sandbox serving 100,000 of them stays small): for load and memory benchmarks
 * that need many distinct profiles. Thread-safe; profiles are immutable.
 */
public final class SandboxProfiles {

  /** The username whose profile {@code GET /me} returns. */
  public static final String OWN_USERNAME = "demo";

  /** Prefix of the generated profiles' usernames. */
  public static final String SYNTHETIC_PREFIX = "synth-";

  private final Map<String, SandboxProfile> byUsername = new HashMap<>();
  private final int syntheticProfiles;
  private final int syntheticLinks;

  public SandboxProfiles() {
    this(0, 1);
  }

  public SandboxProfiles(int syntheticProfiles, int syntheticLinks) {
    this.syntheticProfiles = syntheticProfiles;
    this.syntheticLinks = syntheticLinks;
    reset();
  }

  public synchronized Optional<SandboxProfile> get(String username) {
    SandboxProfile stored = byUsername.get(username);
    return stored != null ? Optional.of(stored) : Optional.ofNullable(synthetic(username));
  }

  /** The generated profile {@code synth-<i>} for {@code 0 <= i < syntheticProfiles} (canonical spelling only). */
  private SandboxProfile synthetic(String username) {
    if (syntheticProfiles == 0 || !username.startsWith(SYNTHETIC_PREFIX)) {
      return null;
    }
    String digits = username.substring(SYNTHETIC_PREFIX.length());
    if (digits.isEmpty() || digits.length() > 9 || (digits.length() > 1 && digits.charAt(0) == '0')) {
      return null;
    }
    int i = 0;
    for (int k = 0; k < digits.length(); k++) {
      char c = digits.charAt(k);
      if (c < '0' || c > '9') {
        return null;
      }
      i = i * 10 + (c - '0');
    }
    return i < syntheticProfiles ? SandboxDemoData.synthetic(username, i, syntheticLinks) : null;
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
