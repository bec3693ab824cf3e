package dev.biogate.destination;

import dev.biogate.config.DestinationOptions;
import dev.biogate.crypto.Sha256;
import dev.biogate.redis.LuaScript;
import io.vertx.core.Future;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Puts a verified provider event on the outbound stream once per enabled destination whose filters match
 * {@code <provider>.<type>} ({@code redis/outbound_fanout.lua}: atomic, and idempotent per event, so a retried
 * event is never queued twice). Each entry carries a {@code webhook-id} derived from the event and the destination:
 * stable across retries and replays, and the same on every instance. Queueing wakes this instance's reader of the
 * outbound stream, which otherwise polls at most once a second while idle.
 */
public final class FanOut {

  /** The outbound stream is at its ceiling: the event waits where it is. */
  public static final int FULL = -1;

  private final io.vertx.redis.client.Redis redis;
  private final List<Target> targets = new ArrayList<>();
  private final long ttlS;
  private final long ceiling;
  private final LuaScript script = LuaScript.load("outbound_fanout");
  private final DestinationDirectory directory;
  private final java.util.function.Consumer<String> wake;

  private record Target(String name, List<Glob> filters) {
    boolean wants(String type) {
      for (Glob g : filters) {
        if (g.matches(type)) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * {@code ttlS}: how long the fan-out marker and the histories live (the events' dedupe window); {@code directory}:
   * the destinations live peers send to, which an event goes to as well (a rolling change of the list); {@code wake}:
   * called with the outbound stream's key once entries were queued ({@code StreamWakeups::wake}).
   */
  public FanOut(io.vertx.redis.client.Redis redis, DestinationOptions options, long ttlS, DestinationDirectory directory,
                java.util.function.Consumer<String> wake) {
    this.redis = redis;
    this.directory = directory;
    this.wake = wake;
    this.ttlS = ttlS;
    this.ceiling = options.streamMaxLen();
    for (DestinationOptions.Endpoint e : options.endpoints()) {
      if (e.enabled()) {
        targets.add(new Target(e.name(), e.events().stream().map(Glob::new).toList()));
      }
    }
  }

  /**
   * The destinations that want events of this type ({@code <provider>.<event type>}): this instance's, and those live
   * peers announce that this instance has no configuration for.
   */
  public List<String> matching(String type) {
    List<String> out = new ArrayList<>();
    for (Target t : targets) {
      if (t.wants(type)) {
        out.add(t.name());
      }
    }
    directory.peers().forEach((name, filters) -> {
      if (new Target(name, filters).wants(type)) {
        out.add(name);
      }
    });
    return out;
  }

  /**
   * Queues the event for every matching destination; completes with how many, or {@link #FULL}. {@code body} is the
   * original event as received (verified JSON).
   */
  public Future<Integer> fanOut(String provider, String type, String deliveryId, String received, String body) {
    String fullType = provider + "." + type;
    List<String> names = matching(fullType);
    if (names.isEmpty() || deliveryId == null) {
      return Future.succeededFuture(0);
    }
    List<String> keys = new ArrayList<>();
    keys.add(OutboundKeys.fanned(provider, deliveryId));
    keys.add(OutboundKeys.STREAM);
    List<String> args = new ArrayList<>();
    args.add(Long.toString(ttlS));
    args.add(Long.toString(ceiling));
    args.add(Integer.toString(names.size()));
    for (String name : names) {
      String id = webhookId(provider, deliveryId, name);
      keys.add(OutboundKeys.history(id));
      List<String> f = List.of("destination", name, "webhook_id", id, "type", fullType, "provider", provider,
        "delivery_id", deliveryId, "received", received == null ? "0" : received, "body", body);
      args.add(Integer.toString(f.size()));
      args.addAll(f);
    }
    args.add(Long.toString(System.currentTimeMillis()));
    return script.run(redis, keys, args).map(r -> {
      int queued = r.toInteger();
      if (queued > 0) {
        wake.accept(OutboundKeys.STREAM);
      }
      return queued;
    });
  }

  /** {@code msg_<32 hex>}: SHA-256 of provider, delivery id and destination. */
  public static String webhookId(String provider, String deliveryId, String destination) {
    return "msg_" + Sha256.hex((provider + "\n" + deliveryId + "\n" + destination).getBytes(StandardCharsets.UTF_8), 16);
  }
}
