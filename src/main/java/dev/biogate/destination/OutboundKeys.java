package dev.biogate.destination;

/**
 * The outbound side's Redis keys. All but the rate buckets carry the {@code {out}} hash tag: the fan-out, ack,
 * dead-letter and replay scripts touch several of them at once, and in Redis Cluster all keys of one script must share
 * a slot. A destination's rate bucket is the only key of its script and carries the destination's own tag.
 */
public final class OutboundKeys {

  /** Stream: one entry per event and destination, read by the {@link #GROUP} group. */
  public static final String STREAM = "bg:out:{out}";
  public static final String GROUP = "destinations";
  /** Stream: deliveries that exhausted their attempts; replayed through {@code /admin/destinations}. */
  public static final String DEAD = "bg:out:{out}:dead";
  /** Hash: destination name → the event filters and until when a live instance sends to it ({@link DestinationDirectory}). */
  public static final String DIRECTORY = "bg:out:{out}:directory";

  private OutboundKeys() {
  }

  /** String: this event was fanned out (value = how many destinations it went to). */
  public static String fanned(String provider, String deliveryId) {
    return "bg:out:{out}:fanned:" + provider + ":" + deliveryId;
  }

  /** Hash: one delivery's history (attempts, last error, outcome), per {@code webhook-id}. */
  public static String history(String webhookId) {
    return "bg:out:{out}:history:" + webhookId;
  }

  /** List: every attempt of one delivery, oldest first ({@code {"at","status"|"error"}}). */
  public static String attempts(String webhookId) {
    return "bg:out:{out}:attempts:" + webhookId;
  }

  /** Hash: one destination's token bucket ({@code redis/destination_rate.lua}), shared by every instance. */
  public static String rate(String destination) {
    return "bg:out:rate:{" + destination + "}";
  }
}
