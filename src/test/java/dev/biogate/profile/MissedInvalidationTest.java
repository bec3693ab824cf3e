package dev.biogate.profile;

import dev.biogate.support.DedicatedRedisTest;
import dev.biogate.support.TcpProxy;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A change handled while an instance was cut off from Redis: the invalidation published for it never reached that
 * instance, which kept serving its copy from before the change as a hit once it could reach Redis again, until the
 * copy's freshness ran out (a drill: 4,385 reads of the old bio over 54 s after it was back). Subscribed again, an
 * instance now checks every copy it holds against the shared copy's version.
 */
class MissedInvalidationTest extends DedicatedRedisTest {

  private static final JsonObject FRESH_FOR_A_MINUTE = Deliveries.config()
    .put("cache", new JsonObject().put("freshTtlMs", 60_000));

  @Test
  void aChangeHandledWhileAnInstanceWasCutOffReachesItOnceItIsBack(Vertx vertx, VertxTestContext ctx) {
    TcpProxy[] link = new TcpProxy[1];
    TcpProxy.start(vertx, "127.0.0.1", redis.port()).compose(proxy -> {
      link[0] = proxy;
      return h.gateway(FRESH_FOR_A_MINUTE.copy());
    }).compose(a -> h.gateway(FRESH_FOR_A_MINUTE.copy()
        .put("redis", new JsonObject().put("url", "redis://127.0.0.1:" + link[0].port())))
      .compose(b -> Profiles.bio(h, b, "alice").compose(before -> {
        assertEquals(false, "new bio".equals(before), "the copy from before the change: " + before);
        link[0].sever();
        return h.putProfile("alice", Profiles.withBio("new bio"))
          .compose(v -> Profiles.announceBio(h, a, "cut-off-1", "alice", "new bio"))
          .compose(v -> Profiles.bio(h, a, "alice"))
          .compose(onA -> {
            assertEquals("new bio", onA, "the instance that handled it serves the change");
            link[0].heal();
            return h.eventually(() -> Profiles.bio(h, b, "alice").map("new bio"::equals), 10_000)
              .recover(err -> Profiles.bio(h, b, "alice").compose(still -> Future.failedFuture(
                new AssertionError("the cut-off instance still serves \"" + still + "\" 10 s after it was back", err))));
          });
      })))
      .onComplete(ctx.succeedingThenComplete());
  }
}
