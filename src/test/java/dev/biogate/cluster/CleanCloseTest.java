package dev.biogate.cluster;

import dev.biogate.support.LogCapture;
import dev.biogate.support.Topology;
import dev.biogate.support.UnstartedHarnessTest;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Closing a running gateway logs nothing at WARN or above, on every topology: its own Redis connections closing
 * under it are not trouble. A Cluster drill logged "redis connection not replaced yet: Client is closed" and engines
 * that "cannot read" on every clean stop.
 */
class CleanCloseTest extends UnstartedHarnessTest {

  @ParameterizedTest
  @EnumSource(Topology.class)
  void closingARunningGatewayLogsNoTrouble(Topology topology, Vertx vertx, VertxTestContext ctx) {
    LogCapture logged = LogCapture.root(e -> LogCapture.warnOrAbove(e) ? e.getLevel() + " " + e.getLoggerName() + ": " + e.getFormattedMessage() : null);
    h.start(topology)
      .compose(x -> h.gateway(Deliveries.config()))
      .compose(g -> h.eventually(() -> h.get(g, "/health/ready").map(r -> r.statusCode() == 200), 15_000)
        .compose(ready -> h.get(g, "/v1/profiles/demo"))
        // Let the engines settle into their idle reads, then stop.
        .compose(read -> vertx.timer(1_500))
        .compose(t -> h.close(g)))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        logged.close();
        List<String> lines = logged.lines();
        assertEquals(List.of(), lines.stream().filter(l -> !l.contains("risky setting")).toList());
        ctx.completeNow();
      })));
  }
}
