package dev.biogate.http;

import dev.biogate.support.Harness;
import dev.biogate.support.LogCapture;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A client that resets its connection in the middle of a request body is a client gone away, logged at DEBUG. A reset
 * (unlike a plain close) used to reach the failure handler as an I/O exception and log ERROR with a stack trace: one
 * line per request, 500 lines in 2.3 s from one address, on every webhook endpoint and on the admin batch route.
 */
@ExtendWith(VertxExtension.class)
class ResetMidBodyTest {

  private static final String ADMIN = "admin-token-reset-test-123";

  @Test
  void aResetMidBodyLogsNothingAboveDebugAndTheGatewayServesOn(Vertx vertx) throws Exception {
    try (LogCapture warnings = LogCapture.root(e -> LogCapture.warnOrAbove(e) ? e.getLoggerName() + ": " + e.getFormattedMessage() : null)) {
      Harness h = new Harness(vertx);
      JsonObject cfg = new JsonObject()
        .put("webhooks", new JsonObject().put("linktree", new JsonObject().put("secrets", "whsec_reset"))
          .put("linkme", new JsonObject().put("secrets", "lm_reset")))
        .put("admin", new JsonObject().put("token", ADMIN));
      var g = h.start().compose(v -> h.gateway(cfg)).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      try {
        for (int i = 0; i < 5; i++) {
          resetMidBody(g.port(), "POST /webhooks/linktree HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":");
          resetMidBody(g.port(), "POST /webhooks/linkme HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n");
          resetMidBody(g.port(), "POST /webhooks/linktree HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n");
          resetMidBody(g.managementPort(), "POST /admin/creators/demo/links/batch HTTP/1.1\r\nHost: x\r\n"
            + "Authorization: Bearer " + ADMIN + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[");
        }
        // Every reset has been handled once the gateway answers again on both listeners.
        h.eventually(() -> h.get(g, "/v1/profiles/demo").map(r -> r.statusCode() == 200), 10_000)
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        // Each listener has read every reset once it has answered a request sent after them.
        awaitQuiet(g.port());
        awaitQuiet(g.managementPort());
        assertEquals(List.of(), warnings.lines());
      } finally {
        h.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
    }
  }

  /** Sends {@code head} (and a partial body), waits for the gateway to have read it, then resets the connection. */
  private static void resetMidBody(int port, String head) throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      OutputStream out = s.getOutputStream();
      out.write(head.getBytes(StandardCharsets.UTF_8));
      out.flush();
      // A request sent after the partial one on another connection is answered only once the event loop has read
      // this one's bytes: then the reset arrives mid-body, not before the head.
      awaitQuiet(port);
      s.setSoLinger(true, 0);
    }
  }

  /** One complete request and its answer on a fresh connection (a point every earlier read has passed). */
  private static void awaitQuiet(int port) throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.UTF_8));
      s.getInputStream().readAllBytes();
    }
  }
}
