package dev.biogate.sink;

import java.util.List;
import java.util.Map;

/**
 * An {@code analytics.milestone} announced by Linktree (a link reached {@code threshold} of {@code metric}), carried
 * to Klaviyo through the sink's retry stream next to the click fields it shares ({@code event_id} = the delivery id,
 * {@code link_id}, {@code ts}). {@code null} stands for "a plain click" wherever a milestone is optional.
 */
public record Milestone(String metric, String value, String threshold) {

  public static final String KIND = "milestone";

  /** The milestone an entry carries, or {@code null} for a click. */
  static Milestone of(Map<String, String> fields) {
    if (fields == null || !KIND.equals(fields.get("kind"))) {
      return null;
    }
    return new Milestone(fields.getOrDefault("metric", ""), fields.getOrDefault("value", ""), fields.getOrDefault("threshold", ""));
  }

  /**
   * Adds this milestone's field/value pairs to {@code args} (a script's arguments that end in an entry's fields), so
   * the entry, and a dead letter of it, replays as the milestone it was.
   */
  public List<String> appendFields(List<String> args) {
    args.addAll(List.of("kind", KIND, "metric", metric, "value", value, "threshold", threshold));
    return args;
  }
}
