package dev.biogate.support;

import io.vertx.core.json.JsonObject;

import java.net.URI;

/**
 * The Redis deployments tests run against, for parameterised tests:
 * <pre>{@code
 * @ParameterizedTest @EnumSource(Topology.class)
 * void servesProfiles(Topology topology, Vertx vertx, VertxTestContext ctx) {
 *   Harness h = new Harness(vertx);
 *   h.start(topology).compose(x -> h.gateway(new JsonObject())) ...
 * }</pre>
 * {@link #redisConfig()} is the gateway's {@code redis} section for it (merged into {@link Harness#config}); the
 * first call starts the deployment (shared by the whole test JVM) and each call waits until it is healthy.
 */
public enum Topology {

  /** One {@code redis-server}: {@link TestRedis}. */
  STANDALONE {
    @Override
    public JsonObject redisConfig() {
      return new JsonObject().put("type", "standalone").put("url", TestRedis.url());
    }

    @Override
    public void flush() {
      URI u = URI.create(TestRedis.url());
      Resp.call(u.getPort(), "FLUSHALL");
    }
  },

  /** 3 masters + 3 replicas: {@link TestCluster}. */
  CLUSTER {
    @Override
    public JsonObject redisConfig() {
      return TestCluster.get().redisConfig();
    }

    @Override
    public void flush() {
      TestCluster.get().flushAll();
    }
  },

  /** 1 master, 1 replica, 3 Sentinels: {@link TestSentinel}. */
  SENTINEL {
    @Override
    public JsonObject redisConfig() {
      return TestSentinel.get().redisConfig();
    }

    @Override
    public void flush() {
      TestSentinel.get().flushAll();
    }
  };

  /** The gateway's {@code redis} config section; blocks while the deployment starts or heals (test thread only). */
  public abstract JsonObject redisConfig();

  /** Empties every database of the deployment. Blocking. */
  public abstract void flush();
}
