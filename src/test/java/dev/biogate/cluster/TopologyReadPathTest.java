package dev.biogate.cluster;

import dev.biogate.support.Topology;
import dev.biogate.support.UnstartedHarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The profile read path on every Redis deployment the gateway supports: standalone, Cluster (3+3) and Sentinel.
 * A new test for all three is a {@code @ParameterizedTest @EnumSource(Topology.class)} with {@link Harness#start(Topology)}.
 */
class TopologyReadPathTest extends UnstartedHarnessTest {

  @ParameterizedTest(name = "{0}")
  @EnumSource(Topology.class)
  void secondInstanceServesItsFirstReadFromTheSharedCopy(Topology topology, Vertx vertx, VertxTestContext ctx) {
    h.start(topology).compose(x -> h.gateway(new JsonObject())).compose(a -> h.get(a, "/v1/profiles/bob"))
      .compose(warm -> {
        ctx.verify(() -> assertEquals(200, warm.statusCode()));
        return h.gateway(new JsonObject()).compose(b -> h.get(b, "/v1/profiles/bob")).map(fromB -> {
          ctx.verify(() -> {
            assertEquals(200, fromB.statusCode());
            assertEquals("biogate; hit; detail=shared", fromB.getHeader("Cache-Status"));
            assertEquals(warm.getHeader("ETag"), fromB.getHeader("ETag"));
          });
          return null;
        });
      })
      .compose(v -> h.upstreamCalls("/profiles/bob"))
      .onComplete(ctx.succeeding(n -> ctx.verify(() -> {
        assertEquals(1, n, "the second instance cost no upstream call");
        ctx.completeNow();
      })));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Topology.class)
  void everyDemoProfileIsFetchedOnceAndSharedWhateverItsSlot(Topology topology, Vertx vertx, VertxTestContext ctx) {
    // The demo profiles live on different Cluster slots (demo and alice on one master, bob on another): 4
    // concurrent first reads each on one instance (fetch lock taken and released by script on the key's master),
    // then a second instance serves all of them from the shared copies.
    List<String> users = List.of("demo", "alice", "bob");
    h.start(topology).compose(x -> h.gateway(new JsonObject())).compose(a -> {
      List<Future<?>> reads = new ArrayList<>();
      for (String u : users) {
        for (int i = 0; i < 4; i++) {
          reads.add(h.get(a, "/v1/profiles/" + u).map(r -> {
            ctx.verify(() -> assertEquals(200, r.statusCode()));
            return r;
          }));
        }
      }
      return Future.all(reads);
    }).compose(all -> h.gateway(new JsonObject())).compose(b -> {
      List<Future<?>> reads = new ArrayList<>();
      for (String u : users) {
        reads.add(h.get(b, "/v1/profiles/" + u).map(r -> {
          ctx.verify(() -> assertEquals("biogate; hit; detail=shared", r.getHeader("Cache-Status"), u));
          return r;
        }));
      }
      return Future.all(reads);
    }).compose(all -> h.sandboxStats()).onComplete(ctx.succeeding(stats -> ctx.verify(() -> {
      JsonObject byPath = stats.getJsonObject("by_path", new JsonObject());
      for (String u : users) {
        assertEquals(1, byPath.getInteger("/profiles/" + u, 0), "one upstream fetch for " + u);
      }
      ctx.completeNow();
    })));
  }
}
