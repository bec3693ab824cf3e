package dev.biogate.redis;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisSentinelConnectOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The order in which the Sentinels are asked where the master is: as configured, except that the Sentinel that last
 * announced a switch comes first.
 * <p>
 * The Vert.x Sentinel client asks the Sentinels in order and takes the first answer. Right after a switch only the
 * Sentinel that announced it is sure to know; the others learn it from the leader's hello messages, up to two seconds
 * later, and meanwhile still name the old master. Connections renewed at the announcement must ask the announcer.
 */
public final class SentinelEndpoints {

  private volatile List<String> order;

  public SentinelEndpoints(List<String> endpoints) {
    this.order = List.copyOf(endpoints);
  }

  /** The endpoints, in the order they are asked now. */
  public List<String> order() {
    return order;
  }

  /** {@code endpoint} announced a switch: it is asked first from now on. */
  public synchronized void announcedBy(String endpoint) {
    List<String> next = new ArrayList<>(order.size());
    next.add(endpoint);
    for (String e : order) {
      if (!e.equals(endpoint)) {
        next.add(e);
      }
    }
    order = List.copyOf(next);
  }

  /** Connect options for a Sentinel client built from {@code base}: each master lookup asks in the order of that moment. */
  Supplier<Future<RedisSentinelConnectOptions>> connectOptions(RedisOptions base) {
    return () -> Future.succeededFuture(new RedisSentinelConnectOptions(base).setEndpoints(new ArrayList<>(order)));
  }
}
